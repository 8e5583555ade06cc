"""« Cette réponse vous a aidé ? » after FAQ and help answers, and what a 👍 or 👎 does.

Asked at most once per topic (FAQ entry or help answer) and per conversation — Messenger's
24-hour window — and never under an answer that asks something (a purchase step, a choice, the
consent): the question would hide that answer's buttons. Only the chips' payloads rate an answer;
a typed 👍 means "yes" to whatever was asked, as before. A 👎 puts the question in the editors'
review queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.insights import TurnRecord
from bot.services.assistance.contact import hours_1000
from bot.services.dialogue.payloads import payload
from bot.services.i18n import N_, _
from bot.services.insights.masking import masked
from bot.services.insights.turns import (
    FAQ_INTENT,
    HELP_INTENTS,
    OPEN,
    Outcome,
    ReviewReason,
    TurnFacts,
    faq_entry,
    intent_of,
    what_was_said,
)
from bot.services.replies import MENU, QR_HUMAN, QuickReply, Reply

FEEDBACK_INTENT = "answer_feedback"  # answered by the webhook (bot.channel), not in Rasa's domain
UP, DOWN = "up", "down"
CONVERSATION = timedelta(hours=24)

ASK_TEXT = N_("Cette réponse vous a aidé ?")
THANKS_UP = N_("Merci pour votre retour ! 😊 Autre chose ?")
THANKS_DOWN = N_(
    "Merci de nous l'avoir dit 🙏 Nos équipes vont revoir cette réponse. Reformulez votre question en "
    "quelques mots, ou parlez à un conseiller (le 1000, {hours})."
)
ALREADY = N_("C'est noté, merci ! Autre chose ?")


def topic(facts: TurnFacts, outcome: str) -> str | None:
    """What a rating would be about: `faq/<entry>` or the help answer's intent; None: do not ask."""
    if facts.asked is not None or not facts.messages:
        return None
    if outcome == Outcome.FAQ:
        entry = faq_entry(facts)
        return f"{FAQ_INTENT}/{entry}" if entry else None
    intent = intent_of(facts)
    return intent if outcome == Outcome.ANSWERED and intent in HELP_INTENTS else None


def already_asked(session: Session, psid: str, about: str, now: datetime) -> bool:
    return (
        session.scalar(
            select(TurnRecord.id)
            .where(TurnRecord.psid == psid, TurnRecord.feedback_topic == about, TurnRecord.at >= now - CONVERSATION)
            .limit(1)
        )
        is not None
    )


def ask(session: Session, row: TurnRecord, facts: TurnFacts) -> Reply | None:
    """The question to add under this turn's answer, or None (the caller commits)."""
    about = topic(facts, row.outcome)
    if about is None or already_asked(session, facts.psid, about, facts.at):
        return None
    row.feedback_topic = about
    row.text_masked = row.text_masked or masked(facts.text)
    row.did = row.did or what_was_said(facts.messages)
    return Reply(
        text=_(ASK_TEXT),
        quick_replies=[
            QuickReply(_("👍 Oui"), payload(FEEDBACK_INTENT, {"turn": row.id, "rating": UP})),
            QuickReply(_("👎 Non"), payload(FEEDBACK_INTENT, {"turn": row.id, "rating": DOWN})),
        ],
    )


def rate(session: Session, psid: str, turn_id: int, rating: str, now: datetime) -> Reply:
    """Record the tapped rating (the first one counts) and thank the user (the caller commits)."""
    row = session.get(TurnRecord, turn_id)
    if row is None or row.psid != psid or row.feedback_topic is None or rating not in (UP, DOWN):
        return Reply(text=_(ALREADY), quick_replies=list(MENU))
    if row.rating is not None:
        return Reply(text=_(ALREADY), quick_replies=list(MENU))
    row.rating, row.rated_at = rating, now
    if rating == UP:
        return Reply(text=_(THANKS_UP), quick_replies=list(MENU))
    row.review_reason, row.review_status = ReviewReason.THUMBS_DOWN, OPEN
    menu = [q for q in MENU if q != QR_HUMAN]
    return Reply(text=_(THANKS_DOWN).format(hours=hours_1000()), quick_replies=[QR_HUMAN, *menu])
