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
from bot.services.replies import Button, QuickReply, Reply

PHONE_1000 = "1000"
EMAIL_1000 = "1000@opt.nc"
HELP_URL = "https://www.opt.nc/assistance/aide-reclamation-mobile"
APPOINTMENT_URL = "https://www.opt.nc/rdv"
OPEN_DAYS = range(0, 5)  # Monday..Friday
OPENS, CLOSES = time(7, 30), time(15, 45)
DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

# Payloads are Rasa intent messages (docs/contracts.md): the conversation layer maps them.
PAYLOAD_HELP = "/help"
PAYLOAD_CONTACT_1000 = "/contact_1000"
PAYLOAD_APPOINTMENT = "/appointment"
PAYLOAD_FIND_AGENCY = "/find_agency"


def hhmm(value: time) -> str:
    """time(7, 30) → "7h30", time(15, 0) → "15h" (French style)."""
    return f"{value.hour}h{value.minute:02d}" if value.minute else f"{value.hour}h"


# The 1000's opening hours as every answer says them.
HOURS_1000 = f"du lundi au vendredi de {hhmm(OPENS)} à {hhmm(CLOSES)}"


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
        return f"En ce moment, le 1000 est ouvert (jusqu'à {hhmm(CLOSES)})."
    opening = next_1000_opening(local)
    if opening.date() == local.date():
        when = f"aujourd'hui à {hhmm(OPENS)}"
    elif opening.date() == local.date() + timedelta(days=1):
        when = f"demain à {hhmm(OPENS)}"
    else:
        when = f"{DAY_NAMES[opening.weekday()]} à {hhmm(OPENS)}"
    return f"En ce moment, le 1000 est fermé : il rouvre {when}."


def contact_1000_reply(now: datetime | None = None) -> Reply:
    """Call the 1000 (hours, open now or not), e-mail, web help and appointment links."""
    text = (
        f"Service client Mobilis : appelez le {PHONE_1000}, {HOURS_1000} "
        "(appel gratuit depuis une ligne Mobilis).\n"
        f"{_status_1000(now)}\n"
        f"Vous pouvez aussi écrire à {EMAIL_1000} ou passer par l'aide en ligne.\n"
        "Assistance technique : 1013. Professionnels : 1016."
    )
    return Reply(
        text=text,
        buttons=[
            Button("Aide en ligne", url=HELP_URL),
            Button("Prendre rendez-vous", url=APPOINTMENT_URL),
        ],
        quick_replies=[
            QuickReply("Trouver une agence", PAYLOAD_FIND_AGENCY),
            QuickReply("Autre question", PAYLOAD_HELP),
        ],
    )


def appointment_reply() -> Reply:
    """Online booking of an agency appointment, with the 1000 as the alternative."""
    text = (
        "Vous pouvez prendre rendez-vous en agence OPT directement en ligne. "
        "Vous préférez le téléphone ? Le 1000 prend aussi "
        f"les rendez-vous, {HOURS_1000} (gratuit "
        "depuis une ligne Mobilis). Pensez à apporter une pièce d'identité."
    )
    return Reply(
        text=text,
        buttons=[Button("Prendre rendez-vous", url=APPOINTMENT_URL)],
        quick_replies=[
            QuickReply("Trouver une agence", PAYLOAD_FIND_AGENCY),
            QuickReply("Appeler le 1000", PAYLOAD_CONTACT_1000),
        ],
    )
