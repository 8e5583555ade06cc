"""Custom actions of Mobilis Assistant (rasa-sdk action server, light environment).

Started with `python -m rasa_sdk --actions actions`; every Action subclass imported here is
registered (rasa-sdk also walks the submodules, but the list is kept explicit). Actions are thin
adapters: they find the line with bot.services.linking, call a service, and turn its Reply into
Rasa messages with actions.reply_adapter; actions.gate holds what they share (consent gate,
pending_request, one way to run a turn).

Importing this package installs the log masking (phone numbers, codes, tokens) for the whole
action server process: rasa-sdk sets up its own handlers before importing the actions, and the
masking works at record creation, so it applies to those handlers and to sanic's logs alike.
"""
from bot.logmask import install_filters

install_filters()  # before the action modules are imported (they may log at import)

from actions.assistance import (  # noqa: E402,F401  (imported for registration, after the masking)
    ActionAnswerFaq,
    ActionAppointment,
    ActionCancelSuspend,
    ActionContact1000,
    ActionFallback,
    ActionFindAgency,
    ActionHandoff,
    ActionLostPhone,
    ActionSuspendLine,
)
from actions.consultation import (  # noqa: E402,F401  (imported for registration, after the masking)
    ActionShowBalance,
    ActionShowDocuments,
    ActionShowNotifications,
    ActionShowOffer,
    ActionShowPurchases,
    ActionShowUsage,
)
from actions.identity import (  # noqa: E402,F401  (imported for registration, after the masking)
    ActionAcceptTerms,
    ActionDeclineTerms,
    ActionEraseData,
    ActionEraseDataAsk,
    ActionEraseDataCancel,
    ActionLinkStep,
    ActionMyData,
    ActionResendCode,
    ActionSwitchLine,
    ActionUnlinkLine,
    ActionWelcome,
)
from actions.purchases import (  # noqa: E402,F401  (imported for registration, after the masking)
    ActionBuy,
    ActionCancelPurchase,
    ActionChooseProduct,
    ActionConfirmPurchase,
)
