"""Messenger channel: webhook, inbound event store, dispatcher, Rasa client, Send API client."""
