"""Custom actions of Mobilis Assistant (rasa-sdk action server, light environment).

Served by `python -m actions.server` (rasa-sdk behind the internal token), which registers every
Action subclass of the package's modules (rasa-sdk imports each of them). Actions are thin adapters:
they find the line with bot.services.identity.linking, call a service, and turn its Reply into Rasa
messages with actions.reply_adapter. actions.turns runs every turn the same way (consent gate,
pending_request, apology on failure), actions.reading reads the tracker, actions.replay answers the
question kept while the user accepted the CGU or linked the line.

Importing this package installs the log masking (phone numbers, codes, tokens) for the whole
action server process: rasa-sdk sets up its own handlers before importing the actions, and the
masking works at record creation, so it applies to those handlers and to sanic's logs alike.
"""

from bot.logmask import install_filters

install_filters()  # before rasa-sdk imports the action modules (they may log at import)
