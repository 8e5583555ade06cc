"""bot.services.assistance.contact: the 1000's opening hours and the contact/appointment replies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from assistance_helpers import nc

from bot.services.assistance.contact import appointment_reply, contact_1000_reply, is_1000_open

# 2026-11-23 is a Monday.


@pytest.mark.parametrize(
    "moment,expected",
    [
        (nc(2026, 11, 23, 7, 29), False),
        (nc(2026, 11, 23, 7, 30), True),
        (nc(2026, 11, 23, 12, 0), True),
        (nc(2026, 11, 27, 15, 44), True),  # Friday
        (nc(2026, 11, 27, 15, 45), False),
        (nc(2026, 11, 28, 10, 0), False),  # Saturday
        (nc(2026, 11, 29, 10, 0), False),  # Sunday
        (datetime(2026, 11, 22, 21, 0, tzinfo=UTC), True),  # = Monday 08:00 in Nouméa
        (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), False),  # = Monday 21:00 in Nouméa
        (datetime(2026, 11, 22, 21, 0), True),  # naive = UTC, as stored
    ],
)
def test_is_1000_open(moment, expected):
    assert is_1000_open(moment) is expected


def test_contact_reply_when_open():
    reply = contact_1000_reply(nc(2026, 11, 23, 9))
    assert "1000" in reply.text and "7h30" in reply.text and "15h45" in reply.text
    assert "ouvert" in reply.text and "1000@opt.nc" in reply.text
    assert "1013" in reply.text and "1016" in reply.text
    urls = [b.url for b in reply.buttons]
    assert urls == ["https://www.opt.nc/assistance/aide-reclamation-mobile", "https://www.opt.nc/rdv"]
    assert len(reply.text) <= 640 and all(len(b.title) <= 20 for b in reply.buttons)


@pytest.mark.parametrize(
    "moment,when",
    [
        (nc(2026, 11, 23, 6, 0), "aujourd'hui à 7h30"),
        (nc(2026, 11, 23, 16, 0), "demain à 7h30"),
        (nc(2026, 11, 27, 16, 0), "lundi à 7h30"),
        (nc(2026, 11, 28, 10, 0), "lundi à 7h30"),
        (nc(2026, 11, 29, 10, 0), "demain à 7h30"),
    ],
)
def test_contact_reply_when_closed_says_when_it_reopens(moment, when):
    text = contact_1000_reply(moment).text
    assert "fermé" in text and when in text


def test_appointment_reply():
    reply = appointment_reply()
    assert [b.url for b in reply.buttons] == ["https://www.opt.nc/rdv"]
    assert "1000" in reply.text
    assert "/contact_1000" in [q.payload for q in reply.quick_replies]
    assert len(reply.text) <= 640
