"""How to reach a human: the 1000 (Mobilis customer service) and agency appointments.

Facts from OPT-NC's public pages: the 1000 answers Monday to Friday 07:30–15:45 (New Caledonia
time), free from a Mobilis line; e-mail 1000@opt.nc; 1013 technical assistance; 1016 business
agency. Public holidays are not modelled (the bot may say "open" on a holiday).

No "call" button for the 1000: Messenger's call button needs a full international number
("+687…"), and a short number like 1000 has none, so the number is written in the text.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.clock import now_or
from bot.services.fr_format import to_noumea
from bot.services.i18n import ENGLISH, N_, _, current_language
from bot.services.replies import Button, QuickReply, Reply

PHONE_1000 = "1000"
EMAIL_1000 = "1000@opt.nc"
HELP_URL = "https://www.opt.nc/assistance/aide-reclamation-mobile"
APPOINTMENT_URL = "https://www.opt.nc/rdv"
OPEN_DAYS = range(0, 5)  # Monday..Friday
OPENS, CLOSES = time(7, 30), time(15, 45)
# Marked only: translate where used, `_(DAY_NAMES[i])` (the language is known during a turn).
DAY_NAMES = (N_("lundi"), N_("mardi"), N_("mercredi"), N_("jeudi"), N_("vendredi"), N_("samedi"), N_("dimanche"))

# Payloads are Rasa intent messages (docs/contracts.md): the conversation layer maps them.
PAYLOAD_HELP = "/help"
PAYLOAD_CONTACT_1000 = "/contact_1000"
PAYLOAD_APPOINTMENT = "/appointment"
PAYLOAD_FIND_AGENCY = "/find_agency"


def hhmm(value: time) -> str:
    """time(7, 30) → "7h30", time(15, 0) → "15h" (French style); in English "7:30am", "3pm"."""
    if current_language() == ENGLISH:
        hour = value.hour % 12 or 12
        suffix = "am" if value.hour < 12 else "pm"
        return f"{hour}:{value.minute:02d}{suffix}" if value.minute else f"{hour}{suffix}"
    return f"{value.hour}h{value.minute:02d}" if value.minute else f"{value.hour}h"


# The 1000's opening hours as every answer says them: `hours_1000()` in the turn's language;
# HOURS_1000 is the French text (kept for the French-only texts that embed it).
HOURS_1000_TEMPLATE = N_("du lundi au vendredi de {opens} à {closes}")
HOURS_1000 = HOURS_1000_TEMPLATE.format(opens=hhmm(OPENS), closes=hhmm(CLOSES))


def hours_1000() -> str:
    """ "du lundi au vendredi de 7h30 à 15h45"; in English "Monday to Friday, 7:30am to 3:45pm"."""
    return _(HOURS_1000_TEMPLATE).format(opens=hhmm(OPENS), closes=hhmm(CLOSES))


def _noumea_now(now: datetime | None) -> datetime:
    return to_noumea(now_or(now))


def is_1000_open(now: datetime | None = None) -> bool:
    """Whether the 1000 answers at this instant (naive datetimes are taken as UTC)."""
    local = _noumea_now(now)
    return local.weekday() in OPEN_DAYS and OPENS <= local.time() < CLOSES


def next_1000_opening(now: datetime | None = None) -> datetime:
    """Next opening time in Nouméa time (the current instant if already open)."""
    local = _noumea_now(now)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in OPEN_DAYS:
            continue
        opening = datetime.combine(day, OPENS, tzinfo=local.tzinfo)
        closing = datetime.combine(day, CLOSES, tzinfo=local.tzinfo)
        if local < closing:
            return max(opening, local)
    raise AssertionError("the 1000 opens every week")  # unreachable with OPEN_DAYS non-empty


def _status_1000(now: datetime | None) -> str:
    local = _noumea_now(now)
    if is_1000_open(local):
        return _("En ce moment, le 1000 est ouvert (jusqu'à {time}).").format(time=hhmm(CLOSES))
    opening = next_1000_opening(local)
    if opening.date() == local.date():
        return _("En ce moment, le 1000 est fermé : il rouvre aujourd'hui à {time}.").format(time=hhmm(OPENS))
    if opening.date() == local.date() + timedelta(days=1):
        return _("En ce moment, le 1000 est fermé : il rouvre demain à {time}.").format(time=hhmm(OPENS))
    return _("En ce moment, le 1000 est fermé : il rouvre {day} à {time}.").format(
        day=_(DAY_NAMES[opening.weekday()]), time=hhmm(OPENS)
    )


def contact_1000_reply(now: datetime | None = None) -> Reply:
    """Call the 1000 (hours, open now or not), e-mail, web help and appointment links."""
    lines = [
        _("Service client Mobilis : appelez le {phone}, {hours} (appel gratuit depuis une ligne Mobilis).").format(
            phone=PHONE_1000, hours=hours_1000()
        ),
        _status_1000(now),
        _("Vous pouvez aussi écrire à {email} ou passer par l'aide en ligne.").format(email=EMAIL_1000),
        _("Assistance technique : 1013. Professionnels : 1016."),
    ]
    return Reply(
        text="\n".join(lines),
        buttons=[
            Button(_("Aide en ligne"), url=HELP_URL),
            Button(_("Prendre rendez-vous"), url=APPOINTMENT_URL),
        ],
        quick_replies=[
            QuickReply(_("Trouver une agence"), PAYLOAD_FIND_AGENCY),
            QuickReply(_("Autre question"), PAYLOAD_HELP),
        ],
    )


def appointment_reply() -> Reply:
    """Online booking of an agency appointment, with the 1000 as the alternative."""
    text = _(
        "Vous pouvez prendre rendez-vous en agence OPT directement en ligne. "
        "Vous préférez le téléphone ? Le 1000 prend aussi "
        "les rendez-vous, {hours} (gratuit "
        "depuis une ligne Mobilis). Pensez à apporter une pièce d'identité."
    ).format(hours=hours_1000())
    return Reply(
        text=text,
        buttons=[Button(_("Prendre rendez-vous"), url=APPOINTMENT_URL)],
        quick_replies=[
            QuickReply(_("Trouver une agence"), PAYLOAD_FIND_AGENCY),
            QuickReply(_("Appeler le 1000"), PAYLOAD_CONTACT_1000),
        ],
    )
