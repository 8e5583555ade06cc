"""Lost or stolen phone: what to do, and suspending the linked line from the chat.

The line is ONLY the one linked to the PSID (`linking.get_linked_line`). The operator bars the line
first (the operator port, one key per line and day); then one conditional UPDATE (active →
suspended) decides who records it, so a double tap or two workers record one suspension and one
notification. If the operator does not do it, the user is told to call the 1000 at once.
Reactivation is never done here: it needs the 1000 or an agency, where the subscriber's identity
is checked.

The caller owns the transaction (commit after these functions return).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import now_or
from bot.db.account import Line, LineStatus, Notification
from bot.db.base import changed_rows
from bot.db.suspension import LOST_OR_STOLEN, REASONS, LineSuspension
from bot.services.assistance.contact import PAYLOAD_CONTACT_1000, PAYLOAD_FIND_AGENCY, hours_1000
from bot.services.dialogue.context import Question, QuestionKind
from bot.services.fr_format import datetime_fr, local_date, msisdn_fr
from bot.services.i18n import N_, _
from bot.services.identity.linking import get_linked_line
from bot.services.operator.backends import operator_for
from bot.services.operator.port import OperationStatus, OperatorError
from bot.services.replies import QuickReply, Reply

log = logging.getLogger(__name__)
CONFIRM_PAYLOAD = "/confirm_suspend"
CANCEL_PAYLOAD = "/cancel_suspend"
HUMAN_PAYLOAD = "/human"
QR_AGENCY = QuickReply(N_("Trouver une agence"), PAYLOAD_FIND_AGENCY)
QR_1000 = QuickReply(N_("Appeler le 1000"), PAYLOAD_CONTACT_1000)
QR_HUMAN = QuickReply(N_("Un conseiller"), HUMAN_PAYLOAD)


# The IMEI is asked by the police; *#06# only works on the phone itself, which is gone, so the
# box and the purchase invoice are named first. {hours}: the 1000's opening hours.
NEXT_STEPS = N_(
    "• En cas de vol, déclarez-le à la police ou à la gendarmerie avec le numéro IMEI du téléphone : "
    "il figure sur la boîte ou la facture d'achat (sur le téléphone, il s'affiche en tapant *#06#).\n"
    "• En agence OPT, avec une pièce d'identité, demandez une nouvelle carte SIM : vous gardez le même "
    "numéro.\n"
    "• Pour réactiver la ligne, appelez le 1000 (gratuit depuis une ligne Mobilis, {hours}) ou "
    "passez en agence."
)


def lost_phone_steps() -> str:
    """What to do after a loss or theft, in the turn's language."""
    return _(NEXT_STEPS).format(hours=hours_1000())


def _already_suspended(number: str) -> str:
    return _("La ligne {number} est déjà suspendue : personne ne peut l'utiliser.\n{steps}").format(
        number=number, steps=lost_phone_steps()
    )


def _suspend_choices() -> list[QuickReply]:
    return [QuickReply(_("Suspendre la ligne"), CONFIRM_PAYLOAD), QuickReply(_("Non merci"), CANCEL_PAYLOAD)]


def lost_phone_reply(session: Session, psid: str) -> Reply:
    """First answer to "j'ai perdu mon téléphone": the steps, and suspension when a line is linked."""
    line = get_linked_line(session, psid)
    if line is None:
        return not_linked_reply()
    number = msisdn_fr(line.msisdn)
    if line.status == LineStatus.SUSPENDED:
        return Reply(text=_already_suspended(number), quick_replies=[QR_AGENCY, QR_1000])
    return Reply(
        text=_(
            "Désolé pour ce souci. Pour que personne n'utilise votre ligne, je peux la suspendre tout de "
            "suite (ligne {number}).\nEnsuite :\n{steps}\nVoulez-vous suspendre la ligne maintenant ?"
        ).format(number=number, steps=lost_phone_steps()),
        quick_replies=_suspend_choices(),
        asks=Question(QuestionKind.SUSPEND_CONFIRMATION),
    )


def suspend_question(session: Session, psid: str) -> Reply:
    """The suspension offer alone, asked again (the steps were already shown)."""
    line = get_linked_line(session, psid)
    if line is None or line.status == LineStatus.SUSPENDED:
        return lost_phone_reply(session, psid)
    return Reply(
        text=_("Voulez-vous suspendre la ligne {number} maintenant ?").format(number=msisdn_fr(line.msisdn)),
        quick_replies=_suspend_choices(),
        asks=Question(QuestionKind.SUSPEND_CONFIRMATION),
    )


def not_linked_reply() -> Reply:
    """No linked line: suspension needs the 1000 or an agent (an SMS code cannot reach a lost phone)."""
    return Reply(
        text=_(
            "Désolé pour ce souci. Pour faire suspendre votre ligne tout de suite, appelez le 1000 "
            "(gratuit depuis une ligne Mobilis, {hours}) ou demandez à parler à un conseiller "
            "ici.\nEnsuite :\n{steps}"
        ).format(hours=hours_1000(), steps=lost_phone_steps()),
        quick_replies=[QR_HUMAN, QR_1000, QR_AGENCY],
    )


def suspend_linked_line(
    session: Session, psid: str, reason: str = LOST_OR_STOLEN, now: datetime | None = None
) -> Reply:
    """Suspend the PSID's linked line; idempotent (already suspended → same steps, nothing new)."""
    if reason not in REASONS:
        raise ValueError(f"unknown suspension reason {reason!r}")
    now = now_or(now)
    line = get_linked_line(session, psid)
    if line is None:
        return not_linked_reply()
    if line.status == LineStatus.ACTIVE:
        # The operator bars the line first; our records follow only once it has (no lock is held
        # while it answers). The same key on a double tap or a retry suspends nothing more.
        key = f"suspend:{line.id}:{local_date(now).isoformat()}"
        try:
            done = operator_for(session).suspend(line, reason, key, now)
        except OperatorError as exc:
            log.error("suspension of line %s not done by the operator: %s", line.id, exc)
            return failed_reply()
        if done.status is OperationStatus.FAILED:
            log.error("suspension of line %s refused by the operator: %s", line.id, done.reason)
            return failed_reply()
    won = (
        changed_rows(
            session.execute(
                update(Line)
                .where(Line.id == line.id, Line.status == LineStatus.ACTIVE)
                .values(status=LineStatus.SUSPENDED)
                .execution_options(synchronize_session=False)
            )
        )
        == 1
    )
    session.refresh(line)
    number = msisdn_fr(line.msisdn)
    if not won:
        return Reply(text=_already_suspended(number), quick_replies=[QR_AGENCY, QR_1000])
    session.add(LineSuspension(line_id=line.id, psid=psid, reason=reason, channel="messenger", created_at=now))
    session.add(
        Notification(
            line_id=line.id,
            # Stored in the language of the turn that suspended the line (the user's).
            title=_("Ligne suspendue (perte ou vol)"),
            created_at=now,
            body=_(
                "Votre ligne {number} a été suspendue le {when} à votre demande, depuis Messenger. "
                "Pour la réactiver, appelez le 1000 ou passez en agence OPT avec une pièce d'identité."
            ).format(number=number, when=datetime_fr(now)),
        )
    )
    session.flush()
    return Reply(
        text=_(
            "C'est fait : la ligne {number} est suspendue depuis le {when}. Plus aucun appel, "
            "SMS, Internet ni achat n'est possible avec elle.\nProchaines étapes :\n{steps}"
        ).format(number=number, when=datetime_fr(now), steps=lost_phone_steps()),
        quick_replies=[QR_AGENCY, QR_1000],
    )


def failed_reply() -> Reply:
    """The operator did not suspend the line: say so, and give the fastest other way."""
    return Reply(
        text=_(
            "Je n'ai pas pu suspendre la ligne pour l'instant : le système de Mobilis ne répond pas. "
            "Pour la faire suspendre tout de suite, appelez le 1000 (gratuit depuis une ligne Mobilis, {hours}), "
            "ou demandez un conseiller ici. Vous pouvez aussi réessayer dans quelques minutes."
        ).format(hours=hours_1000()),
        quick_replies=[QR_1000, QR_HUMAN, QuickReply(_("Réessayer"), CONFIRM_PAYLOAD)],
    )


def latest_suspension(session: Session, line_id: int) -> LineSuspension | None:
    """The last suspension recorded for a line (for the 1000 or an agency before reactivating)."""
    return session.scalar(
        select(LineSuspension)
        .where(LineSuspension.line_id == line_id)
        .order_by(LineSuspension.created_at.desc(), LineSuspension.id.desc())
        .limit(1)
    )


def cancel_reply() -> Reply:
    return Reply(
        text=_("D'accord, je ne suspends pas la ligne. Si vous changez d'avis, dites-le moi, ou appelez le 1000."),
        quick_replies=[QR_AGENCY, QR_1000],
    )
