"""Custom actions of Mobilis Assistant (rasa-sdk action server, light environment).

Served by `python -m actions.server` (rasa-sdk behind the internal token); every Action subclass of the modules imported
here is registered. Actions are thin adapters: they find the line with bot.services.linking, call a service, and turn its Reply into
Rasa messages with actions.reply_adapter; actions.gate holds what they share (consent gate,
pending_request, one way to run a turn).

Importing this package installs the log masking (phone numbers, codes, tokens) for the whole
action server process: rasa-sdk sets up its own handlers before importing the actions, and the
masking works at record creation, so it applies to those handlers and to sanic's logs alike.
"""
from bot.logmask import install_filters

install_filters()  # before the action modules are imported (they may log at import)

# Importing the modules registers every Action subclass they define (rasa-sdk discovers
# subclasses); after install_filters, so the masking is in place first.
from actions import assistance, consultation, identity, purchases, questions  # noqa: E402,F401
