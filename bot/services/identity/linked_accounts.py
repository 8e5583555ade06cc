"""The Messenger accounts linked to a line, as its holder sees them, and removing one.

Only an account whose own link to the line is valid may list or remove the line's other accounts;
another person's account is never shown by its Messenger id, only by its order and link date.
Removing is consequential: it is asked first, and confirmed by the chip or an unambiguous typed yes
to that very question (bot/services/dialogue). The removed account keeps its row, marked
`revoked`, so that it is told why at its next account question (actions.turns.not_linked_reply).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.identity import MessengerLink
from bot.services.dialogue.context import Question, QuestionKind
from bot.services.dialogue.payloads import payload
from bot.services.i18n import _
from bot.services.identity.linking import REVOKED, get_linked_line
from bot.services.identity.phone import format_number
from bot.services.replies import QuickReply, Reply

NOUMEA = ZoneInfo("Pacific/Noumea")
LIST_PAYLOAD = "/linked_accounts"
CHIPS_SHOWN = 10  # Messenger allows 13 quick replies; keep room for the menu


def _accounts(session: Session, line_id: int) -> list[MessengerLink]:
    return list(
        session.scalars(
            select(MessengerLink)
            .where(MessengerLink.line_id == line_id, MessengerLink.via != REVOKED)
            .order_by(MessengerLink.linked_at, MessengerLink.id)
        )
    )


def count_for_line(session: Session, line_id: int) -> int:
    return len(_accounts(session, line_id))


def accounts_reply(session: Session, psid: str, now: datetime | None = None) -> Reply:
    line = get_linked_line(session, psid, now)
    if line is None:
        return Reply(text=_("Aucune ligne n'est reliée à ce compte Messenger : il n'y a rien à afficher."))
    accounts = _accounts(session, line.id)
    lines = [_("Comptes Messenger reliés à la ligne {number} :").format(number=format_number(line.msisdn))]
    chips: list[QuickReply] = []
    for number, link in enumerate(accounts, start=1):
        when = f"{_local(link.linked_at):%d/%m/%Y}"
        if link.psid == psid:
            lines.append(_("• Compte n°{number} : ce compte-ci, relié le {date}").format(number=number, date=when))
        else:
            lines.append(_("• Compte n°{number} : relié le {date}").format(number=number, date=when))
            if len(chips) < CHIPS_SHOWN:
                chips.append(
                    QuickReply(
                        _("Retirer le n°{number}").format(number=number),
                        payload("revoke_account", {"link": str(link.id)}),
                    )
                )
    if not chips:
        lines.append(_("Aucun autre compte Messenger n'a accès à cette ligne."))
    else:
        lines.append(
            _(
                "Si un compte n'est pas le vôtre, retirez-le : il ne pourra plus consulter la ligne "
                "ni acheter pour elle sans un nouveau code envoyé par SMS sur cette ligne."
            )
        )
    return Reply(text="\n".join(lines), quick_replies=chips)


def revoke_question(session: Session, psid: str, link_id: str | None, now: datetime | None = None) -> Reply:
    target = _other_account(session, psid, link_id, now)
    if target is None:
        return accounts_reply(session, psid, now)
    return Reply(
        text=_(
            "Retirer l'accès du compte Messenger relié le {date} ? Il ne pourra "
            "plus consulter votre ligne ni acheter pour elle sans un nouveau code reçu par SMS. Confirmez-vous ?"
        ).format(date=f"{_local(target.linked_at):%d/%m/%Y}"),
        quick_replies=[
            QuickReply(_("Oui, retirer"), payload("confirm_revoke", {"link": str(target.id)})),
            QuickReply(_("Non"), "/cancel_revoke"),
        ],
        asks=Question(QuestionKind.REVOKE_CONFIRMATION, {"link": str(target.id)}),
    )


def revoke(session: Session, psid: str, link_id: str | None, now: datetime | None = None) -> Reply:
    target = _other_account(session, psid, link_id, now)
    if target is None:
        return accounts_reply(session, psid, now)
    target.via = REVOKED
    session.flush()
    return Reply(
        text=_(
            "C'est fait : ce compte Messenger n'a plus accès à votre ligne. S'il vous semble "
            "qu'on a utilisé votre téléphone, appelez le 1000 (gratuit depuis une ligne Mobilis)."
        ),
        quick_replies=[QuickReply(_("Comptes liés"), LIST_PAYLOAD)],
    )


def cancelled_reply() -> Reply:
    return Reply(
        text=_("D'accord, je ne retire aucun accès."), quick_replies=[QuickReply(_("Comptes liés"), LIST_PAYLOAD)]
    )


def _other_account(session: Session, psid: str, link_id: str | None, now: datetime | None) -> MessengerLink | None:
    """Another account of the same line, asked by an account with a valid link to that line."""
    line = get_linked_line(session, psid, now)
    if line is None or link_id is None or not link_id.isdigit():
        return None
    target = session.get(MessengerLink, int(link_id))
    if target is None or target.line_id != line.id or target.psid == psid or target.via == REVOKED:
        return None
    return target


def _local(value: datetime) -> datetime:
    return value.astimezone(NOUMEA)
