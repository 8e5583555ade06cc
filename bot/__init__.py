"""Mobilis Assistant application package (channel, services, data)."""
