"""Messages the bot sends on its own (payment results, alerts): the 24-hour window they depend on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.db import messaging as m
from bot.services.replies import STANDARD_WINDOW


def last_seen(session: Session, psid: str) -> datetime | None:
    """When the user last wrote to us."""
    seen = session.scalar(select(func.max(m.InboundEvent.received_at)).where(m.InboundEvent.sender_id == psid))
    return as_utc(seen) if seen is not None else None  # aggregates skip the column type


def in_window(seen: datetime | None, now: datetime) -> bool:
    return seen is not None and now - seen < STANDARD_WINDOW
