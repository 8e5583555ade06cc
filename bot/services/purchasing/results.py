"""What every purchase function returns: an Outcome the conversation can branch on, and the
Reply to show (in the turn's language, within Messenger limits)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.services.i18n import _
from bot.services.purchasing import texts
from bot.services.replies import QR_HELP, Reply


class Outcome(str, enum.Enum):
    OFFERS = "offers"  # product choices shown
    QUOTED = "quoted"  # summary shown, waiting for Confirmer / Annuler
    SUCCEEDED = "succeeded"  # paid from credit or billed: receipt shown
    PAYMENT_PENDING = "payment_pending"  # card: payment link shown
    PAYMENT_FAILED = "payment_failed"  # card payment declined / abandoned / expired earlier
    DELIVERY_PENDING = "delivery_pending"  # the operator has not confirmed yet: the user is told when it does
    DELIVERY_FAILED = "delivery_failed"  # the operator refused: nothing charged
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    NOT_FOUND = "not_found"  # unknown quote, or not this PSID's current line
    NOT_LINKED = "not_linked"
    LINE_SUSPENDED = "line_suspended"
    NOT_ELIGIBLE = "not_eligible"
    INSUFFICIENT_CREDIT = "insufficient_credit"
    LIMIT_COUNT = "limit_count"
    LIMIT_AMOUNT = "limit_amount"
    CARD_UNAVAILABLE = "card_unavailable"
    ALREADY_DONE = "already_done"  # cancel asked after the purchase went through


@dataclass
class PurchaseResult:
    outcome: Outcome
    reply: Reply
    quote_token: str | None = None
    purchase_id: int | None = None
    reference: str | None = None
    payment_url: str | None = None
    duplicate: bool = False  # this confirmation had already been handled: nothing new happened
    shortfall: int = 0


def not_found() -> PurchaseResult:
    # Same words whether the token is unknown or someone else's: nothing to learn from it.
    return PurchaseResult(
        Outcome.NOT_FOUND,
        texts.refusal(
            _(
                "Je ne trouve pas cette proposition d'achat pour votre ligne. Rien n'a été acheté ni débité. "
                "Voulez-vous voir les achats possibles ?"
            )
        ),
    )


def card_unavailable() -> PurchaseResult:
    return PurchaseResult(
        Outcome.CARD_UNAVAILABLE,
        texts.refusal(
            _(
                "Le paiement par carte est momentanément indisponible. Rien n'a été acheté ni débité. "
                "Vous pouvez recharger en point de vente ou réessayer plus tard."
            ),
            QR_HELP,
        ),
    )
