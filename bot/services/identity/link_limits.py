"""The limits that stop probing and SMS bombing: cooldowns, caps per number and per Messenger
account, lockouts after wrong codes. Every count is keyed by a peppered hash, never a number."""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.config import get_settings
from bot.db.identity import LinkChallenge, LinkEvent, LinkLockout
from bot.services.i18n import _, ngettext
from bot.services.identity.link_results import LinkOutcome, LinkResult

MAX_ATTEMPTS = 3  # wrong codes per challenge
RESEND_COOLDOWN = timedelta(seconds=60)  # per PSID, also between two different numbers
LOCK_WINDOW = timedelta(hours=1)
LOCK_AFTER_WRONG_CODES = 3 * MAX_ATTEMPTS  # three failed challenges within LOCK_WINDOW
LOCK_DURATION = timedelta(minutes=30)
MAX_SMS_PER_NUMBER_PER_HOUR = 5  # stops SMS bombing of one number from many PSIDs
RETENTION = timedelta(hours=24)  # security events and old challenges are purged after this


def max_numbers_per_day() -> int:
    """Distinct numbers one PSID may ask codes for in 24 h (probing other people's lines)."""
    return get_settings().link_max_numbers_per_day


def _pepper() -> bytes:
    settings = get_settings()
    settings.require("MOBILIS_OTP_PEPPER")
    return settings.otp_pepper.encode()


def keyed_hash(message: str) -> str:
    """HMAC with the pepper: stored code hashes and limit keys never hold a code or a number."""
    return hmac.new(_pepper(), message.encode(), hashlib.sha256).hexdigest()


def key_hash(scope: str, value: str) -> str:
    return keyed_hash(f"{scope}:{value}")


def code_request_refusal(session: Session, psid: str, msisdn: str, now: datetime) -> LinkResult | None:
    """Why a code may not be sent now (a lockout, a cooldown, a cap), or None."""
    return lock_refusal(session, psid, msisdn, now) or rate_refusal(session, psid, msisdn, now)


def lock_refusal(session: Session, psid: str, msisdn: str, now: datetime) -> LinkResult | None:
    for scope, value in (("psid", psid), ("msisdn", msisdn)):
        until = session.scalar(
            select(func.max(LinkLockout.locked_until)).where(LinkLockout.key_hash == key_hash(scope, value))
        )
        if until is not None:
            until = as_utc(until)  # aggregate results skip the column type
        if until is not None and until > now:
            return locked_result(scope, until - now)
    return None


def locked_result(scope: str, remaining: timedelta) -> LinkResult:
    minutes = max(1, math.ceil(remaining.total_seconds() / 60))
    if scope == "psid":
        text = ngettext(
            "Trop de codes erronés : par sécurité, je ne peux plus relier de ligne à ce compte "
            "Messenger pendant {n} minute. Réessayez ensuite, ou demandez à parler à un conseiller.",
            "Trop de codes erronés : par sécurité, je ne peux plus relier de ligne à ce compte "
            "Messenger pendant {n} minutes. Réessayez ensuite, ou demandez à parler à un conseiller.",
            minutes,
        ).format(n=minutes)
    else:
        text = ngettext(
            "Trop de codes erronés ont été saisis pour ce numéro : par sécurité, il ne peut pas être "
            "relié pendant {n} minute. Réessayez ensuite, ou demandez à parler à un conseiller.",
            "Trop de codes erronés ont été saisis pour ce numéro : par sécurité, il ne peut pas être "
            "relié pendant {n} minutes. Réessayez ensuite, ou demandez à parler à un conseiller.",
            minutes,
        ).format(n=minutes)
    return LinkResult(LinkOutcome.LOCKED, text, retry_after_s=math.ceil(remaining.total_seconds()))


def serialise_number(session: Session, msisdn: str) -> None:
    """Requests for the same number wait for each other until commit, so the per-number caps
    are counted and recorded atomically (PostgreSQL; SQLite serialises writers already)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"link:{msisdn}".encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def rate_refusal(session: Session, psid: str, msisdn: str, now: datetime) -> LinkResult | None:
    last = session.scalar(select(func.max(LinkChallenge.last_sent_at)).where(LinkChallenge.psid == psid))
    if last is not None:
        last = as_utc(last)  # aggregate results skip the column type
    if last is not None and now - last < RESEND_COOLDOWN:
        wait = math.ceil((RESEND_COOLDOWN - (now - last)).total_seconds())
        return LinkResult(
            LinkOutcome.COOLDOWN,
            retry_after_s=wait,
            message=_(
                "Un code vient d'être envoyé. Vous pourrez en demander un nouveau dans {seconds} secondes."
            ).format(seconds=wait),
        )
    asked = set(
        session.scalars(
            select(LinkChallenge.msisdn).where(LinkChallenge.psid == psid, LinkChallenge.created_at > now - RETENTION)
        )
    )
    if msisdn not in asked and len(asked) >= max_numbers_per_day():
        return LinkResult(
            LinkOutcome.TOO_MANY_NUMBERS,
            retry_after_s=int(RETENTION.total_seconds()),
            message=_(
                "Par sécurité, un compte Messenger peut demander des codes pour {count} numéros "
                "différents au plus par jour. Réessayez demain, ou appelez le 1000 (gratuit depuis une ligne "
                "Mobilis)."
            ).format(count=max_numbers_per_day()),
        )
    sent = session.execute(
        select(func.count(LinkEvent.id)).where(
            LinkEvent.kind == "code_sent",
            LinkEvent.key_hash == key_hash("msisdn", msisdn),
            LinkEvent.created_at > now - LOCK_WINDOW,
        )
    ).scalar_one()
    if sent >= MAX_SMS_PER_NUMBER_PER_HOUR:
        return LinkResult(
            LinkOutcome.TOO_MANY_CODES,
            retry_after_s=int(LOCK_WINDOW.total_seconds()),
            message=_(
                "Trop de codes ont été demandés pour ce numéro. Réessayez dans une heure, "
                "ou demandez à parler à un conseiller."
            ),
        )
    return None


def record_wrong_code(session: Session, psid: str, msisdn: str, now: datetime) -> str | None:
    """Count the wrong code for the PSID and the number; lock whichever passed the limit."""
    locked = None
    for scope, value in (("psid", psid), ("msisdn", msisdn)):
        key = key_hash(scope, value)
        session.add(LinkEvent(kind="wrong_code", key_hash=key, created_at=now))
        session.flush()
        count = session.execute(
            select(func.count(LinkEvent.id)).where(
                LinkEvent.kind == "wrong_code", LinkEvent.key_hash == key, LinkEvent.created_at > now - LOCK_WINDOW
            )
        ).scalar_one()
        if count >= LOCK_AFTER_WRONG_CODES:
            session.add(LinkLockout(key_hash=key, locked_until=now + LOCK_DURATION, created_at=now))
            locked = locked or scope
    session.flush()
    return locked
