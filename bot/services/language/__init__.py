"""The conversation's language: French by default, English on request or when the user writes it."""
