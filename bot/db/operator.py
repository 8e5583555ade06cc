"""The embedded operator simulator's own record: each write it performed, by the caller's key.

A real operator keeps its orders and top-ups with the external id the assistant sent; this table
plays that part for the default run, so that "was this purchase made?" has an answer on the
operator side that does not depend on the assistant's own purchase rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime


class OperatorOperation(Base):
    __tablename__ = "operator_operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # the caller's idempotency key
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "purchase", "suspension" or "refund"
    status: Mapped[str] = mapped_column(String(16))  # port.OperationStatus
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)  # port.FailureReason
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
