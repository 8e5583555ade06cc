"""Staff accounts: Argon2id hashes, roles, lock-out after repeated wrong passwords, the command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.staff import StaffAccount
from bot.services.staff import accounts

NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
PASSWORD = "un mot de passe long"
ROOT = Path(__file__).resolve().parents[2]


def test_passwords_are_stored_as_argon2id_hashes_only(session):
    user = accounts.create_account(session, " Marie ", PASSWORD, accounts.EDITOR, NOW)
    stored = session.scalar(select(StaffAccount))
    assert user.username == "marie" and stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert accounts.authenticate(session, "MARIE", PASSWORD, NOW) == user
    assert accounts.authenticate(session, "marie", PASSWORD + "x", NOW) is None
    assert accounts.authenticate(session, "nobody", PASSWORD, NOW) is None


@pytest.mark.parametrize(
    ("name", "password", "role"),
    [
        ("marie", "court", "editor"),
        ("marie", PASSWORD, "boss"),
        ("ma rie", PASSWORD, "editor"),
        ("", PASSWORD, "admin"),
    ],
)
def test_bad_accounts_are_refused(session, name, password, role):
    with pytest.raises(accounts.AccountError):
        accounts.create_account(session, name, password, role, NOW)


def test_no_two_accounts_with_one_name(session):
    accounts.create_account(session, "paul", PASSWORD, accounts.OPERATOR, NOW)
    with pytest.raises(accounts.AccountError):
        accounts.create_account(session, "Paul", PASSWORD, accounts.ADMIN, NOW)


def test_five_wrong_passwords_lock_the_account_for_a_while(session):
    accounts.create_account(session, "paul", PASSWORD, accounts.OPERATOR, NOW)
    for _ in range(accounts.MAX_FAILURES):
        assert accounts.authenticate(session, "paul", "wrong", NOW) is None
    assert accounts.authenticate(session, "paul", PASSWORD, NOW + timedelta(minutes=1)) is None  # locked
    later = NOW + accounts.LOCK_FOR + timedelta(seconds=1)
    assert accounts.authenticate(session, "paul", PASSWORD, later) is not None


def test_roles_decide_what_each_one_opens(session):
    editor = accounts.create_account(session, "e", PASSWORD, accounts.EDITOR, NOW)
    operator = accounts.create_account(session, "o", PASSWORD, accounts.OPERATOR, NOW)
    admin = accounts.create_account(session, "a", PASSWORD, accounts.ADMIN, NOW)
    assert (editor.can_review, editor.can_see_dashboard) == (True, False)
    assert (operator.can_review, operator.can_see_dashboard) == (False, True)
    assert (admin.can_review, admin.can_see_dashboard) == (True, True)


def test_a_disabled_account_cannot_log_in_nor_keep_its_session(session):
    user = accounts.create_account(session, "old", PASSWORD, accounts.EDITOR, NOW)
    session.scalar(select(StaffAccount)).active = False
    assert accounts.authenticate(session, "old", PASSWORD, NOW) is None
    assert accounts.active_user(session, user.id) is None


def test_the_command_creates_the_first_account_and_lists_it(db_url):
    env = {**os.environ, "DATABASE_URL": db_url, "MOBILIS_STAFF_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "bot.tools.staff"]
    created = subprocess.run([*run, "add", "Marie", "--role", "admin"], env=env, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    assert "Compte « marie » créé" in created.stdout
    again = subprocess.run([*run, "add", "marie", "--role", "editor"], env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "existe déjà" in again.stderr
    listed = subprocess.run([*run, "list"], env=env, capture_output=True, text=True)
    assert listed.stdout.split() == ["marie", "admin", "actif"]
    assert PASSWORD not in created.stdout + listed.stdout
