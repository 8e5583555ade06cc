"""Line suspensions asked from the chat after a loss or theft: who, when, why.

`lines.status` says whether a line is suspended now; this
table keeps the record of each suspension asked through the assistant, so the 1000 or an agency
can see where it came from before reactivating the line. It is an audit record of the line (kept
when the Messenger user erases their data: it names a PSID, not a person).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime

# Why the line was suspended (what the user said; the assistant cannot tell loss from theft).
LOST_OR_STOLEN = "lost_or_stolen"
LOST = "lost"
STOLEN = "stolen"
REASONS = (LOST_OR_STOLEN, LOST, STOLEN)


class LineSuspension(Base):
    __tablename__ = "line_suspensions"
    __table_args__ = (Index("ix_line_suspensions_line_id_created_at", "line_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"))
    psid: Mapped[str] = mapped_column(String(64))  # the Messenger user who asked (linked to the line)
    reason: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(16), default="messenger")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
