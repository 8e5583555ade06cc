"""Paths and time helpers shared by the assistance-content tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
FAQ_DIR = ROOT / "faq"
AGENCIES_CSV = ROOT / "data" / "agences.csv"
SOURCE_CSV = Path("/work/shared/data/opt-nc-agences/agences.csv")
NC = ZoneInfo("Pacific/Noumea")


def nc(year, month, day, hour, minute=0) -> datetime:
    """An aware datetime in New Caledonia time."""
    return datetime(year, month, day, hour, minute, tzinfo=NC)
