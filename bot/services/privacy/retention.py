"""How long the assistant keeps what it stores, and the purge that enforces it (README, Privacy).

    MESSAGE_RETENTION_DAYS=90      texts of messages (in and out) and agents' messages; what the
                                   assistant did with each message (review queue, ratings)
    ESCALATION_RETENTION_DAYS=90   closed hand-offs (summary, user message, agents' messages)
    PAYMENT_SESSION_RETENTION_DAYS=90  payment sessions that never paid: deleted; paid ones lose
                                   their Messenger id and link (the purchase keeps the accounting)
    QUOTE_RETENTION_DAYS=7         purchase summaries that led to nothing (expired, cancelled…)

Challenges, security counters and the development SMS outbox follow linking's own 24 h horizon.
Idempotent and safe to run at any time: every step only touches rows past their horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from bot.config import Settings, get_settings
from bot.db import messaging as m
from bot.db.base import changed_rows
from bot.db.insights import TurnRecord
from bot.db.purchasing import PaymentSession, PaymentStatus, PurchaseQuote, QuoteStatus
from bot.services.handoff import escalations as handoff
from bot.services.identity import linking
from bot.services.privacy.erasure import PSEUDONYM


@dataclass(frozen=True)
class RetentionSettings:
    messages: timedelta = timedelta(days=90)
    escalations: timedelta = timedelta(days=90)
    payment_sessions: timedelta = timedelta(days=90)
    quotes: timedelta = timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> RetentionSettings:
        settings = settings or get_settings()
        return cls(
            timedelta(days=settings.message_retention_days),
            timedelta(days=settings.escalation_retention_days),
            timedelta(days=settings.payment_session_retention_days),
            timedelta(days=settings.quote_retention_days),
        )


def purge(session: Session, now: datetime, settings: RetentionSettings | None = None) -> dict[str, int]:
    """One pass; returns rows changed per step (the caller commits)."""
    settings = settings or RetentionSettings.from_settings()
    texts_before = now - settings.messages
    counts = {
        # Rows stay (dedup of Meta's redeliveries, delivery accounting); their texts go.
        "inbound_texts": changed_rows(
            session.execute(
                update(m.InboundEvent)
                .where(
                    m.InboundEvent.received_at < texts_before,
                    m.InboundEvent.status.in_((m.DONE, m.FAILED, m.STORED)),
                    or_(
                        m.InboundEvent.text.is_not(None),
                        m.InboundEvent.raw_json != "{}",
                        m.InboundEvent.replies_json.is_not(None),
                    ),
                )
                .values(text=None, raw_json="{}", replies_json=None)
                .execution_options(synchronize_session=False)
            )
        ),
        "outbound_texts": changed_rows(
            session.execute(
                update(m.OutboundMessage)
                .where(m.OutboundMessage.created_at < texts_before, m.OutboundMessage.payload_json != "{}")
                .values(payload_json="{}")
                .execution_options(synchronize_session=False)
            )
        ),
        "dialogue_contexts": changed_rows(
            session.execute(delete(m.DialogueContext).where(m.DialogueContext.expires_at < now))
        ),
        "escalations": handoff.purge_closed(session, now - settings.escalations),
        # What the assistant did with each message (review queue, ratings, dashboard): a record of
        # the conversation, kept no longer than its texts.
        "insight_turns": changed_rows(session.execute(delete(TurnRecord).where(TurnRecord.at < texts_before))),
        "purchase_quotes": changed_rows(
            session.execute(
                delete(PurchaseQuote).where(
                    PurchaseQuote.status.in_((QuoteStatus.EXPIRED, QuoteStatus.CANCELLED, QuoteStatus.SUPERSEDED)),
                    PurchaseQuote.purchase_id.is_(None),
                    PurchaseQuote.created_at < now - settings.quotes,
                )
            )
        ),
    }
    old_sessions = PaymentSession.created_at < now - settings.payment_sessions
    counts["payment_sessions_deleted"] = changed_rows(
        session.execute(
            delete(PaymentSession).where(
                old_sessions,
                PaymentSession.status.in_(
                    (PaymentStatus.EXPIRED, PaymentStatus.CANCELLED, PaymentStatus.ABANDONED, PaymentStatus.DECLINED)
                ),
            )
        )
    )
    counts["payment_sessions_pseudonymised"] = changed_rows(
        session.execute(
            update(PaymentSession)
            .where(old_sessions, PaymentSession.status == PaymentStatus.APPROVED, PaymentSession.psid != PSEUDONYM)
            .values(psid=PSEUDONYM, provider_url=None)
            .execution_options(synchronize_session=False)
        )
    )
    linking.purge_expired(session, now)  # challenges, security counters, SMS outbox (24 h)
    session.flush()
    return counts
