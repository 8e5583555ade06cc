"""Every table module, imported for its side effect of registering tables on Base.metadata.

Alembic's env.py and the tests use this module's Base so that no table is forgotten.
"""

from __future__ import annotations

from bot.db import (
    account,
    alerts,
    handoff,
    identity,
    insights,
    language,
    messaging,
    operator,
    purchasing,
    staff,
    suspension,
)
from bot.db.base import Base

__all__ = [
    "Base",
    "account",
    "alerts",
    "handoff",
    "identity",
    "insights",
    "language",
    "messaging",
    "operator",
    "purchasing",
    "staff",
    "suspension",
]
