"""Accounts of the back office (review queue, dashboard).

    ./mobilis staff add NAME --role editor|operator|admin   create an account (the first one too)
    ./mobilis staff password NAME                           set a new password
    ./mobilis staff list                                    the accounts and their roles

The password is asked twice on the terminal (never on the command line, where the shell history
and `ps` would keep it); for scripts, MOBILIS_STAFF_PASSWORD gives it instead. Roles: editors
review the misunderstood messages and edit the FAQ, operators see the dashboard, admins both.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from sqlalchemy import select

from bot import clock
from bot.db.base import session_scope
from bot.db.staff import StaffAccount
from bot.services.staff import accounts

PASSWORD_ENV = "MOBILIS_STAFF_PASSWORD"


def _password() -> str:
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    first = getpass.getpass("Mot de passe (12 caractères au moins) : ")
    if getpass.getpass("Mot de passe, encore : ") != first:
        raise accounts.AccountError("Les deux mots de passe diffèrent.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./mobilis staff", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", choices=accounts.ROLES, required=True)
    password = commands.add_parser("password", help="set a new password")
    password.add_argument("name")
    commands.add_parser("list", help="the accounts")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            with session_scope() as session:
                for account in session.scalars(select(StaffAccount).order_by(StaffAccount.username)):
                    state = "actif" if account.active else "désactivé"
                    print(f"{account.username}\t{account.role}\t{state}")
            return 0
        secret = _password()
        with session_scope() as session:
            if args.command == "add":
                user = accounts.create_account(session, args.name, secret, args.role, clock.utcnow())
                print(f"Compte « {user.username} » créé (rôle : {user.role}).")
            else:
                accounts.set_password(session, args.name, secret)
                print("Mot de passe changé.")
        return 0
    except accounts.AccountError as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
