"""What the webhook's views share, kept in the Flask app (`current_channel()` reads it)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from bot.channel.dispatcher import Dispatcher
from bot.channel.graph import GraphClient
from bot.channel.inbox import Inbox
from bot.channel.rasa_client import RasaClient
from bot.config import Settings

EXTENSION = "mobilis_channel"


@dataclass
class Channel:
    """Everything the views need, kept in app.extensions["mobilis_channel"]."""

    settings: Settings
    inbox: Inbox
    dispatcher: Dispatcher
    rasa: RasaClient
    graph: GraphClient


def channel_of(app: Flask) -> Channel:
    channel: Channel = app.extensions[EXTENSION]
    return channel


def current_channel() -> Channel:
    """The channel of the app handling the current request."""
    return channel_of(current_app)
