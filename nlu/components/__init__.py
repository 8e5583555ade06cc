"""Custom Rasa graph components (experiments; see docs/nlu-quality.md)."""
