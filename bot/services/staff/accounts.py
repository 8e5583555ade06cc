"""Staff accounts of the back office: creation, login check, roles.

Passwords are hashed with Argon2id (argon2-cffi, OWASP's first recommendation) and rehashed at
login when the parameters change. After MAX_FAILURES wrong passwords in a row the account is locked
for LOCK_FOR, whatever the address: slow guessing stays slow even from many machines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.staff import StaffAccount

EDITOR, OPERATOR, ADMIN = "editor", "operator", "admin"
ROLES = (EDITOR, OPERATOR, ADMIN)
# What each role may open: editors the review queue, operators the dashboard, admins both.
CAN_REVIEW = frozenset({EDITOR, ADMIN})
CAN_SEE_DASHBOARD = frozenset({OPERATOR, ADMIN})
MIN_PASSWORD = 12
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)

_hasher = PasswordHasher()
# Verified when the user name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """A refused account change, said in French for the person typing the command."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    role: str

    @property
    def can_review(self) -> bool:
        return self.role in CAN_REVIEW

    @property
    def can_see_dashboard(self) -> bool:
        return self.role in CAN_SEE_DASHBOARD


def _user(account: StaffAccount) -> StaffUser:
    return StaffUser(account.id, account.username, account.role)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def create_account(session: Session, username: str, password: str, role: str, now: datetime) -> StaffUser:
    """A new active account (the caller commits)."""
    name = normalise_username(username)
    if not name or len(name) > 64 or not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise AccountError("Nom d'utilisateur invalide (lettres, chiffres, . - _ ; 64 caractères au plus).")
    if role not in ROLES:
        raise AccountError(f"Rôle inconnu : {role} (choisir parmi {', '.join(ROLES)}).")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Mot de passe trop court : {MIN_PASSWORD} caractères au moins.")
    if session.scalar(select(StaffAccount.id).where(StaffAccount.username == name)) is not None:
        raise AccountError(f"Le compte « {name} » existe déjà.")
    account = StaffAccount(
        username=name, password_hash=_hasher.hash(password), role=role, active=True, failed_logins=0, created_at=now
    )
    session.add(account)
    session.flush()
    return _user(account)


def set_password(session: Session, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Mot de passe trop court : {MIN_PASSWORD} caractères au moins.")
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == normalise_username(username)))
    if account is None:
        raise AccountError(f"Aucun compte « {username} ».")
    account.password_hash = _hasher.hash(password)
    account.failed_logins, account.locked_until = 0, None


def authenticate(session: Session, username: str, password: str, now: datetime) -> StaffUser | None:
    """The user when the password is right and the account active and not locked (the caller commits)."""
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == normalise_username(username)))
    if account is None or not account.active:
        _verify(_DUMMY_HASH, password)
        return None
    if account.locked_until is not None and account.locked_until > now:
        return None
    if not _verify(account.password_hash, password):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILURES:
            account.failed_logins, account.locked_until = 0, now + LOCK_FOR
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
    return _user(account)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def active_user(session: Session, user_id: int) -> StaffUser | None:
    """The session's user, if the account still exists and is active."""
    account = session.get(StaffAccount, user_id)
    return _user(account) if account is not None and account.active else None


def account_count(session: Session) -> int:
    return int(session.scalar(select(func.count(StaffAccount.id))) or 0)
