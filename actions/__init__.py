"""Custom actions of Mobilis Assistant (rasa-sdk action server, light environment).

Started with `python -m rasa_sdk --actions actions`; every Action subclass imported here is
registered. Actions are thin adapters: they find the line with bot.services.linking, call a
service, and turn its Reply into Rasa messages with actions.reply_adapter.
"""
from actions.consultation import (  # noqa: F401  (imported for registration)
    ActionShowBalance,
    ActionShowDocuments,
    ActionShowNotifications,
    ActionShowOffer,
    ActionShowPurchases,
    ActionShowUsage,
)
