"""Custom actions of Mobilis Assistant (rasa-sdk action server, light environment).

Started with `python -m rasa_sdk --actions actions`; every Action subclass imported here is
registered (rasa-sdk also walks the submodules, but the list is kept explicit). Actions are thin
adapters: they find the line with bot.services.linking, call a service, and turn its Reply into
Rasa messages with actions.reply_adapter; actions.gate holds what they share (consent gate,
pending_request, one way to run a turn).
"""
from actions.assistance import (  # noqa: F401  (imported for registration)
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
from actions.consultation import (  # noqa: F401
    ActionShowBalance,
    ActionShowDocuments,
    ActionShowNotifications,
    ActionShowOffer,
    ActionShowPurchases,
    ActionShowUsage,
)
from actions.identity import (  # noqa: F401
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
from actions.purchases import (  # noqa: F401
    ActionBuy,
    ActionCancelPurchase,
    ActionChooseProduct,
    ActionConfirmPurchase,
)
