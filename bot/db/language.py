"""The language each Messenger user is answered in (French unless they chose or wrote otherwise).

One row per PSID that ever left French; no row means French. `source` tells whether the user asked
for it ("English please", the menu) — then only another request changes it — or it was read from
their messages, which later messages may change again.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, str_enum


class LanguageSource(str, enum.Enum):
    CHOSEN = "chosen"  # asked for by the user: kept until they ask for another
    DETECTED = "detected"  # read from what they wrote: may change with the next messages


class ConversationLanguage(Base):
    __tablename__ = "conversation_languages"

    psid: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))  # "fr", "en"
    source: Mapped[LanguageSource] = mapped_column(str_enum(LanguageSource, "language_source"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
