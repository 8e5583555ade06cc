"""Every model module, imported for their side effect of registering tables on Base.metadata.

Alembic's env.py and the tests use this module's Base so that no table is forgotten. The
messaging and identity modules are owned by other engineers and may not exist yet, hence the
guarded imports (only a missing module is tolerated, not an error inside it).
"""

from __future__ import annotations

import importlib

from bot.db import models
from bot.db.base import Base

OPTIONAL_MODULES = ("bot.db.messaging", "bot.db.identity", "bot.db.purchasing", "bot.db.handoff", "bot.db.suspension")

for _name in OPTIONAL_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # subclass of ImportError
        if exc.name != _name:  # the module exists but one of ITS imports is broken: say so
            raise

__all__ = ["Base", "models"]
