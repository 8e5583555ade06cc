"""Domain services: plain Python, no Flask or Rasa imports."""
