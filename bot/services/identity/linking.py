"""Linking a Messenger user (PSID) to a Mobilis line by a one-time SMS code.

`get_linked_line` is the ONLY way code finds the line a user may see: nothing ever takes a line
id or number from the client to read data.

Anti-enumeration: the user-visible answer to a number request is the same whether or not the
number is a Mobilis line. Unknown numbers get a challenge too (with a code nobody receives),
count towards the same limits, and can never succeed.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import clock
from bot.clock import as_utc, now_or
from bot.config import get_settings
from bot.db.account import Line, LineStatus
from bot.db.identity import LinkChallenge, LinkEvent, LinkLockout, MessengerLink
from bot.services.alerts import subscriptions as alert_subscriptions
from bot.services.dialogue.context import Question, QuestionKind
from bot.services.fr_format import to_noumea
from bot.services.i18n import N_, _, ngettext
from bot.services.identity import lines, link_limits
from bot.services.identity.link_limits import LOCK_DURATION, MAX_ATTEMPTS, RETENTION
from bot.services.identity.link_results import LinkOutcome, LinkResult
from bot.services.identity.phone import InvalidNumber, format_number, mask_number, parse_mobilis_number
from bot.services.identity.sms import SmsError, SmsGateway, gateway_from_settings, purge_outbox
from bot.services.replies import QuickReply, Reply

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=5)
RESEND_PAYLOAD = "/resend_code"
CONFIRM_UNLINK_PAYLOAD = "/confirm_unlink"
CANCEL_UNLINK_PAYLOAD = "/cancel_unlink"
LINK_PAYLOAD = "/link_line"
SWITCH_PAYLOAD = "/switch_line"  # sent as /switch_line{"msisdn":"791234"}

SMS_TEXT = "Mobilis Assistant : votre code est {code}. Il expire dans 5 minutes. Ne le communiquez à personne."


NEW_LINK_SMS = (
    "Mobilis Assistant : un compte Messenger a été relié à votre ligne le {date} à {time}. "
    "Si ce n'est pas vous, appelez le 1000 (gratuit) pour le faire retirer."
)


# ---------------------------------------------------------------- reading the link

REVOKED = "revoked"  # MessengerLink.via of an account the line's holder removed


def get_linked_line(session: Session, psid: str, now: datetime | None = None) -> Line | None:
    """The line this PSID proved it holds (server-side truth), or None — also when that proof is
    older than LINK_REVALIDATE_DAYS (a code once read must not give access for good), or when the
    line's holder removed this account."""
    return session.scalar(
        select(Line)
        .join(MessengerLink, MessengerLink.line_id == Line.id)
        .where(
            MessengerLink.psid == psid,
            MessengerLink.via != REVOKED,
            MessengerLink.linked_at >= now_or(now) - revalidate_after(),
        )
    )


def link_problem(session: Session, psid: str, now: datetime | None = None) -> tuple[str, Line] | None:
    """Why a linked line is not usable: ("stale", line) — proved too long ago —, ("revoked", line)
    — removed by the line's holder —, or None (no link, or a valid one)."""
    link = session.scalar(select(MessengerLink).where(MessengerLink.psid == psid))
    if link is None:
        return None
    line = session.get_one(Line, link.line_id)
    if link.via == REVOKED:
        return "revoked", line
    linked_at = as_utc(link.linked_at)
    if linked_at < now_or(now) - revalidate_after():
        return "stale", line
    return None


def revalidate_after() -> timedelta:
    return timedelta(days=get_settings().link_revalidate_days)


def list_lines_of_subscriber(session: Session, psid: str) -> list[Line]:
    """All lines of the subscriber owning the linked line (empty when not linked)."""
    line = get_linked_line(session, psid)
    if line is None:
        return []
    return lines.holder_lines(session, line)


def lines_reply(session: Session, psid: str) -> Reply:
    """The subscriber's lines as quick replies to switch between them."""
    current = get_linked_line(session, psid)
    if current is None:
        return _result(LinkOutcome.NOT_LINKED).reply()
    others = [ln for ln in list_lines_of_subscriber(session, psid) if ln.id != current.id]
    number = format_number(current.msisdn)
    if not others:
        return Reply(
            text=_("Je vous renseigne sur la ligne {number}. C'est la seule ligne de votre compte.").format(
                number=number
            )
        )
    shown = others[:12]  # Messenger allows 13 quick replies
    return Reply(
        text=_(
            "Je vous renseigne sur la ligne {number}. "
            "Votre compte a aussi ces lignes : choisissez celle qui vous intéresse."
        ).format(number=number),
        quick_replies=[
            QuickReply(title=format_number(ln.msisdn), payload=f'{SWITCH_PAYLOAD}{{"msisdn":"{ln.msisdn}"}}')
            for ln in shown
        ],
    )


def ask_number_reply() -> Reply:
    """First step of linking, before any number is known."""
    return Reply(
        text=_(
            "Pour consulter votre ligne, indiquez votre numéro Mobilis (6 chiffres, par exemple "
            "79 12 34). Je vous enverrai un code par SMS pour vérifier qu'il s'agit bien de vous."
        ),
        asks=Question(QuestionKind.PHONE_NUMBER),
    )


def has_pending_challenge(session: Session, psid: str, now: datetime | None = None) -> bool:
    """True while a code is awaited: lets the conversation read "123456" as a code, not a number."""
    now = now_or(now)
    challenge = _pending(session, psid)
    return challenge is not None and now < challenge.expires_at


# ---------------------------------------------------------------- linking by SMS code


def start_linking(
    session: Session, psid: str, raw_number: str, now: datetime | None = None, gateway: SmsGateway | None = None
) -> LinkResult:
    now = now_or(now)
    try:
        msisdn = parse_mobilis_number(raw_number)
    except InvalidNumber as exc:
        return LinkResult(LinkOutcome.INVALID_NUMBER, exc.message)
    purge_expired(session, now)
    link_limits.serialise_number(session, msisdn)
    refusal = link_limits.code_request_refusal(session, psid, msisdn, now)
    if refusal:
        return refusal
    for old in session.scalars(
        select(LinkChallenge).where(LinkChallenge.psid == psid, LinkChallenge.status == "pending")
    ):
        old.status = "superseded"
    line = lines.line_for_number(session, msisdn)
    if line is not None and line.status != LineStatus.ACTIVE:
        line = None  # a suspended line gets the same answer as an unknown number
    code = _new_code()
    challenge = LinkChallenge(
        psid=psid,
        msisdn=msisdn,
        line_id=line.id if line else None,
        code_hash=_code_hash(psid, msisdn, code),
        status="pending",
        attempts=0,
        send_count=1,
        created_at=now,
        last_sent_at=now,
        expires_at=now + CODE_TTL,
    )
    session.add(challenge)
    _send(session, challenge, code, now, gateway)
    return _result(LinkOutcome.CODE_SENT)


def resend_code(
    session: Session, psid: str, now: datetime | None = None, gateway: SmsGateway | None = None
) -> LinkResult:
    """New code for the pending challenge (also after expiry); wrong attempts are NOT reset."""
    now = now_or(now)
    challenge = _pending(session, psid)
    if challenge is None:
        return _result(LinkOutcome.NO_CHALLENGE)
    link_limits.serialise_number(session, challenge.msisdn)
    refusal = link_limits.code_request_refusal(session, psid, challenge.msisdn, now)
    if refusal:
        return refusal
    code = _new_code()
    challenge.code_hash = _code_hash(psid, challenge.msisdn, code)
    challenge.send_count += 1
    challenge.last_sent_at = now
    challenge.expires_at = now + CODE_TTL
    _send(session, challenge, code, now, gateway)
    return _result(
        LinkOutcome.CODE_SENT,
        message=_(
            "Si ce numéro est une ligne Mobilis, un nouveau code vient d'y être envoyé par SMS. "
            "Il expire dans 5 minutes."
        ),
    )


def verify_code(
    session: Session, psid: str, code: str, now: datetime | None = None, gateway: SmsGateway | None = None
) -> LinkResult:
    now = now_or(now)
    challenge = _pending(session, psid, for_update=True)
    if challenge is None:
        return _result(LinkOutcome.NO_CHALLENGE)
    refusal = link_limits.lock_refusal(session, psid, challenge.msisdn, now)
    if refusal:
        return refusal
    if now >= challenge.expires_at:
        return _result(LinkOutcome.EXPIRED)
    digits = re.sub(r"[\s.\-]", "", code or "")
    if not re.fullmatch(r"\d{6}", digits):
        return _result(LinkOutcome.INVALID_CODE)
    good = hmac.compare_digest(challenge.code_hash, _code_hash(psid, challenge.msisdn, digits))
    line = session.get(Line, challenge.line_id) if challenge.line_id is not None else None
    if good and line is not None and line.status == LineStatus.ACTIVE:
        challenge.status = "verified"
        previous = session.scalar(select(MessengerLink.line_id).where(MessengerLink.psid == psid))
        _set_link(session, psid, line, "sms", now)
        if previous != line.id:
            _tell_the_line(session, line, now, gateway)
        log.info("PSID linked to line %s by SMS code", mask_number(line.msisdn))
        return _result(
            LinkOutcome.LINKED,
            msisdn=line.msisdn,
            message=_(
                "C'est fait : la ligne {number} est reliée à votre compte Messenger. "
                "Que puis-je faire pour vous ? Je peux aussi vous prévenir avant que votre crédit ou votre "
                "internet s'épuise : « Mes alertes »."
            ).format(number=format_number(line.msisdn)),
        )
    challenge.attempts += 1
    locked_scope = link_limits.record_wrong_code(session, psid, challenge.msisdn, now)
    if challenge.attempts >= MAX_ATTEMPTS:
        challenge.status = "exhausted"
    if locked_scope:
        return link_limits.locked_result(locked_scope, LOCK_DURATION)
    if challenge.status == "exhausted":
        return _result(LinkOutcome.EXHAUSTED)
    left = MAX_ATTEMPTS - challenge.attempts
    return _result(
        LinkOutcome.WRONG_CODE,
        attempts_left=left,
        message=ngettext(
            "Ce code n'est pas le bon. Il vous reste {n} essai.",
            "Ce code n'est pas le bon. Il vous reste {n} essais.",
            left,
        ).format(n=left),
    )


# ---------------------------------------------------------------- changing the link


def unlink_question(session: Session, psid: str) -> Reply:
    """Unlinking is asked first: the user loses access to the line from Messenger until a new code."""
    line = get_linked_line(session, psid)
    if line is None:
        return _result(LinkOutcome.NOT_LINKED).reply()
    return Reply(
        text=_(
            "Voulez-vous délier la ligne {number} de ce compte Messenger ? "
            "Je ne pourrai plus vous renseigner sur elle tant que vous ne l'aurez pas reliée à "
            "nouveau avec un code reçu par SMS."
        ).format(number=format_number(line.msisdn)),
        quick_replies=[
            QuickReply(_("Oui, délier"), CONFIRM_UNLINK_PAYLOAD),
            QuickReply(_("Non, garder"), CANCEL_UNLINK_PAYLOAD),
        ],
        asks=Question(QuestionKind.UNLINK_CONFIRMATION),
    )


def unlink_cancelled_reply(session: Session, psid: str) -> Reply:
    line = get_linked_line(session, psid)
    if line is None:
        return Reply(text=_("D'accord, rien n'a changé. Que puis-je faire pour vous ?"))
    return Reply(
        text=_("D'accord, la ligne {number} reste reliée. Que puis-je faire pour vous ?").format(
            number=format_number(line.msisdn)
        )
    )


def unlink(session: Session, psid: str) -> LinkResult:
    link = session.scalar(select(MessengerLink).where(MessengerLink.psid == psid))
    for old in session.scalars(
        select(LinkChallenge).where(LinkChallenge.psid == psid, LinkChallenge.status == "pending")
    ):
        old.status = "superseded"
    if link is None:
        return _result(LinkOutcome.NOT_LINKED)
    session.delete(link)
    session.flush()
    return _result(LinkOutcome.UNLINKED)


def switch_line(session: Session, psid: str, msisdn: str, now: datetime | None = None) -> LinkResult:
    """Move to another line of the SAME subscriber; anything else is refused like an unknown number."""
    now = now_or(now)
    current = get_linked_line(session, psid, now)
    if current is None:
        return _result(LinkOutcome.NOT_LINKED)
    try:
        target_msisdn = parse_mobilis_number(msisdn)
    except InvalidNumber as exc:
        return LinkResult(LinkOutcome.INVALID_NUMBER, exc.message)
    target = lines.line_for_number(session, target_msisdn)
    if target is None or target.subscriber_id != current.subscriber_id:
        return _result(LinkOutcome.SWITCH_REFUSED)
    if target.id != current.id:
        _set_link(session, psid, target, "switch", now)
    return _result(
        LinkOutcome.SWITCHED,
        msisdn=target.msisdn,
        message=(f"C'est noté : je vous renseigne maintenant sur la ligne {format_number(target.msisdn)}."),
    )


def link_line_for_dev(session: Session, psid: str, msisdn: str) -> Line:
    """Simulator shortcut (no SMS). Refused unless MOBILIS_DEV_MODE=1; LookupError if unknown."""
    if not _dev_mode():
        raise PermissionError("link_line_for_dev needs MOBILIS_DEV_MODE=1")
    number = parse_mobilis_number(msisdn)
    line = lines.line_for_number(session, number)
    if line is None:
        raise LookupError(f"no line {mask_number(number)} at the operator")
    _set_link(session, psid, line, "dev", clock.utcnow())
    return line


def purge_expired(session: Session, now: datetime | None = None) -> None:
    """Forget security events, lockouts and challenges once they are useless (RETENTION)."""
    now = now_or(now)
    horizon = now - RETENTION
    session.execute(delete(LinkEvent).where(LinkEvent.created_at < horizon))
    session.execute(delete(LinkLockout).where(LinkLockout.locked_until < now))
    session.execute(delete(LinkChallenge).where(LinkChallenge.created_at < horizon))
    purge_outbox(session, horizon)


# ---------------------------------------------------------------- internals

_MESSAGES = {
    LinkOutcome.CODE_SENT: N_(
        "Si ce numéro est une ligne Mobilis, un code à 6 chiffres vient d'y être envoyé "
        "par SMS. Il expire dans 5 minutes : tapez-le ici pour relier votre ligne."
    ),
    LinkOutcome.NO_CHALLENGE: N_(
        "Je n'ai pas de code en attente pour vous. Indiquez d'abord votre numéro "
        "Mobilis (par exemple 79 12 34) pour recevoir un code par SMS."
    ),
    LinkOutcome.INVALID_CODE: N_("Le code reçu par SMS compte 6 chiffres. Pouvez-vous le retaper ?"),
    LinkOutcome.EXHAUSTED: N_(
        "Ce code n'est pas le bon, et après 3 essais il n'est plus valable. "
        "Demandez un nouveau code en indiquant à nouveau votre numéro."
    ),
    LinkOutcome.EXPIRED: N_("Ce code a expiré (il est valable 5 minutes). Demandez un nouveau code."),
    LinkOutcome.UNLINKED: N_(
        "Votre ligne n'est plus reliée à ce compte Messenger. "
        "Vous pourrez la relier à nouveau avec un code reçu par SMS."
    ),
    LinkOutcome.NOT_LINKED: N_(
        "Aucune ligne n'est reliée à ce compte Messenger. Indiquez votre numéro Mobilis pour recevoir un code par SMS."
    ),
    LinkOutcome.SWITCH_REFUSED: N_(
        "Je ne peux pas passer sur ce numéro : il ne fait pas partie des lignes de "
        "votre compte. Pour relier une autre ligne, il faut recevoir un code par SMS "
        "sur ce numéro."
    ),
}

_QUICK = {
    LinkOutcome.CODE_SENT: (
        QuickReply(N_("Renvoyer le code"), RESEND_PAYLOAD),
        QuickReply(N_("Changer de numéro"), LINK_PAYLOAD),
    ),
    LinkOutcome.EXPIRED: (QuickReply(N_("Renvoyer le code"), RESEND_PAYLOAD),),
    LinkOutcome.EXHAUSTED: (QuickReply(N_("Nouveau code"), LINK_PAYLOAD),),
    LinkOutcome.NOT_LINKED: (QuickReply(N_("Relier ma ligne"), LINK_PAYLOAD),),
    LinkOutcome.NO_CHALLENGE: (QuickReply(N_("Relier ma ligne"), LINK_PAYLOAD),),
}


def _result(outcome: LinkOutcome, message: str | None = None, **extra: Any) -> LinkResult:
    return LinkResult(outcome, message or _(_MESSAGES[outcome]), quick_replies=_QUICK.get(outcome, ()), **extra)


def _dev_mode() -> bool:
    return get_settings().dev_mode


def _code_hash(psid: str, msisdn: str, code: str) -> str:
    # Bound to PSID and number: a code is only worth something in the conversation that asked for it.
    return link_limits.keyed_hash(f"code:{psid}:{msisdn}:{code}")


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _pending(session: Session, psid: str, for_update: bool = False) -> LinkChallenge | None:
    query = (
        select(LinkChallenge)
        .where(LinkChallenge.psid == psid, LinkChallenge.status == "pending")
        .order_by(LinkChallenge.id.desc())
        .limit(1)
    )
    if for_update:
        query = query.with_for_update()  # PostgreSQL: two concurrent guesses cannot both use attempt 3
    return session.scalar(query)


def _set_link(session: Session, psid: str, line: Line, via: str, now: datetime) -> None:
    link = session.scalar(select(MessengerLink).where(MessengerLink.psid == psid))
    if link is None:
        session.add(MessengerLink(psid=psid, line_id=line.id, linked_at=now, via=via))
    else:
        if link.line_id != line.id:  # alerts were asked for the other line
            alert_subscriptions.stop_all(session, psid)
        link.line_id, link.via = line.id, via
        if via != "switch":  # moving to another line of the same subscriber proves nothing new
            link.linked_at = now
    session.flush()


def _send(session: Session, challenge: LinkChallenge, code: str, now: datetime, gateway: SmsGateway | None) -> None:
    session.flush()  # the challenge exists before the SMS leaves
    # Counted for unknown numbers too, so the per-number limit reveals nothing.
    session.add(LinkEvent(kind="code_sent", key_hash=link_limits.key_hash("msisdn", challenge.msisdn), created_at=now))
    if challenge.line_id is None:
        log.info("Linking asked for %s: not an active line, no SMS", mask_number(challenge.msisdn))
        return
    try:
        (gateway or gateway_from_settings(session)).send(challenge.msisdn, SMS_TEXT.format(code=code))
    except SmsError as exc:
        # Same answer to the user anyway (else a failing gateway would reveal real numbers);
        # they can ask for a new code after the cooldown.
        log.error("Code SMS to %s not sent: %s", mask_number(challenge.msisdn), exc)


def _tell_the_line(session: Session, line: Line, now: datetime, gateway: SmsGateway | None) -> None:
    """The line hears of every new Messenger account linked to it: whoever read a code (a phone
    left on a table) is noticed by the holder, who has a way to act."""
    when = to_noumea(now)
    text = NEW_LINK_SMS.format(date=f"{when:%d/%m}", time=f"{when:%H:%M}")
    try:
        (gateway or gateway_from_settings(session)).send(line.msisdn, text)
    except SmsError as exc:  # the link stands; the holder can still see it with "mes données"
        log.error("New-link SMS to %s not sent: %s", mask_number(line.msisdn), exc)
