"""Rasa input channels of the assistant (loaded by Rasa from nlu/credentials.yml)."""
