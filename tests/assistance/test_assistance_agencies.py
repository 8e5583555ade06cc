"""bot.services.assistance.agencies: tolerant search, opening hours in Nouméa time, reply cards."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from assistance_helpers import AGENCIES_CSV, nc

from bot.services.assistance.agencies import (
    agencies_reply,
    hours_today,
    is_open,
    load_agencies,
    search,
    status_text,
    week_hours,
)

# 2026-11-23 is a Monday.
MON, TUE, FRI, SAT, SUN = 23, 24, 27, 28, 29


def by_id(agency_id):
    return next(a for a in load_agencies() if a.id == agency_id)


def names(query):
    return [a.name for a in search(query)]


@pytest.mark.parametrize("query", ["kone", "Koné", "KONE", "agence de kone", "kon"])
def test_search_kone(query):
    assert names(query) == ["Koné"]


def test_search_several_words_narrow_down():
    assert names("dumbea koutio") == ["Dumbéa Koutio"]
    assert set(names("dumbea")) == {"Dumbéa Koutio", "Dumbéa Panda", "Dumbéa Mairie"}


def test_search_upper_case_and_typos_for_noumea():
    noumea = set(names("NOUMEA"))
    assert len(noumea) == 10 and all(n.startswith("Nouméa") for n in noumea)
    assert set(names("nouma")) == noumea  # one letter missing
    assert set(names("nouméa")) == noumea


@pytest.mark.parametrize(
    "query,expected",
    [
        ("bourial", "Bourail"),
        ("koumak", "Koumac"),
        ("hienghen", "Hienghène"),
        ("poindimi", "Poindimié"),
        ("la foa", "La Foa"),
        ("ile des pins", "Île des Pins Vao"),
    ],
)
def test_search_small_typos(query, expected):
    assert names(query) == [expected]


def test_search_lifou_noumea_centre_and_places():
    assert set(names("lifou")) == {"Lifou Wé", "Lifou Chépénéhé", "Lifou Mou"}
    centre = names("noumea centre")
    assert "Nouméa Agence principale" in centre and "Nouméa Ducos Centre" in centre
    assert len(centre) == 2
    assert set(names("paita")) == {"Païta", "Tontouta", "Tontouta Aéroport"}
    assert names("maré") == ["Maré Tadine", "Maré La Roche"]  # agency before annex


def test_business_agency_only_when_asked():
    assert "Agence Entreprises" not in names("noumea")
    assert names("agence entreprises") == ["Agence Entreprises"]


def test_search_nothing():
    assert search("zzz") == [] and search("") == [] and search("agence") == []


def test_is_open_weekday_lunch_saturday_sunday():
    kone = by_id("kone")  # 07:45-12:00/12:00-15:00 → continuous
    riviere = by_id("noumea-riviere-salee")  # 07:45-11:15, 12:15-15:00
    assert is_open(kone, nc(2026, 11, MON, 9)) is True
    assert is_open(kone, nc(2026, 11, MON, 7, 44)) is False
    assert is_open(kone, nc(2026, 11, MON, 12, 5)) is True  # no lunch break there
    assert is_open(riviere, nc(2026, 11, MON, 11, 30)) is False  # lunch break
    assert is_open(riviere, nc(2026, 11, MON, 12, 15)) is True
    assert is_open(kone, nc(2026, 11, MON, 15, 0)) is False  # closing time is exclusive
    assert is_open(kone, nc(2026, 11, SAT, 9)) is False
    assert is_open(kone, nc(2026, 11, SUN, 9)) is False


def test_is_open_converts_utc_to_noumea_time():
    kone = by_id("kone")
    # Sunday 22:00 UTC is Monday 09:00 in Nouméa (UTC+11).
    assert is_open(kone, datetime(2026, 11, 22, 22, 0, tzinfo=UTC)) is True
    # Monday 09:00 UTC is Monday 20:00 in Nouméa.
    assert is_open(kone, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) is False


def test_incomplete_hours_are_unknown_not_closed():
    magenta = by_id("noumea-magenta")  # the source lists only Saturday 07:45-11:00
    assert is_open(magenta, nc(2026, 11, MON, 9)) is None
    assert is_open(magenta, nc(2026, 11, SAT, 9)) is True
    assert is_open(magenta, nc(2026, 11, SAT, 12)) is False
    assert hours_today(magenta, nc(2026, 11, MON, 9)) == "à confirmer auprès du 1000"
    assert "confirmer" in status_text(magenta, nc(2026, 11, TUE, 9))
    assert "confirmer" in status_text(magenta, nc(2026, 11, SAT, 12))
    assert dict(week_hours(magenta))["Lundi"] == "à confirmer auprès du 1000"


def test_hours_texts():
    kone, riviere, mou = by_id("kone"), by_id("noumea-riviere-salee"), by_id("lifou-mou")
    assert hours_today(kone, nc(2026, 11, MON, 9)) == "7h45–15h"
    assert hours_today(riviere, nc(2026, 11, MON, 9)) == "7h45–11h15, 12h15–15h"
    assert hours_today(kone, nc(2026, 11, SUN, 9)) == "fermé"
    week = dict(week_hours(mou))
    assert week["Mercredi"] == "fermé" and week["Lundi"] == "8h30–11h30"
    assert list(week) == ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"]


def test_status_texts():
    kone, riviere = by_id("kone"), by_id("noumea-riviere-salee")
    assert status_text(kone, nc(2026, 11, MON, 9)) == "Ouvert · ferme à 15h"
    assert status_text(riviere, nc(2026, 11, MON, 11, 30)) == "Fermé · ouvre à 12h15"
    assert status_text(kone, nc(2026, 11, TUE, 16)) == "Fermé · ouvre demain à 7h45"
    assert status_text(kone, nc(2026, 11, FRI, 16)) == "Fermé · ouvre lundi à 7h45"
    assert status_text(kone, nc(2026, 11, MON, 6)) == "Fermé · ouvre à 7h45"


def test_reply_cards_within_messenger_limits():
    reply = agencies_reply("noumea", nc(2026, 11, MON, 9))
    assert 1 <= len(reply.cards) <= 10
    for card in reply.cards:
        assert len(card.title) <= 80 and len(card.subtitle) <= 80
        assert 1 <= len(card.buttons) <= 3
        assert all(len(b.title) <= 20 for b in card.buttons)
    assert "confirmer auprès du 1000" in reply.text
    assert len(reply.text) <= 2000 and all(len(q.title) <= 20 for q in reply.quick_replies)


def test_reply_card_content():
    reply = agencies_reply("kone", nc(2026, 11, MON, 9))
    (card,) = reply.cards
    assert card.title == "Koné"
    assert "Ouvert · ferme à 15h" in card.subtitle
    assert "Conseiller télécom : oui" in card.subtitle
    assert "23 avenue de Koniambo" in card.subtitle
    call = card.buttons[0]
    assert call.url == "tel:+687202250" and "20 22 50" in call.title
    assert card.buttons[1].url.startswith("https://www.google.com/maps/search/?api=1&query=")
    assert "• Lundi : 7h45–15h" in reply.text and "+687 20 22 50" in reply.text


def test_reply_when_nothing_matches_lists_communes():
    reply = agencies_reply("xyzzy", nc(2026, 11, MON, 9))
    assert not reply.cards and "aucune agence" in reply.text
    for commune in ("Koné", "Nouméa", "Païta", "Maré", "Poya", "Dumbéa"):
        assert commune in reply.text
    assert reply.quick_replies[-1].payload == "/contact_1000"


def test_reply_when_nothing_matches_suggests_the_closest_commune():
    reply = agencies_reply("poyaaaa", nc(2026, 11, MON, 9))
    assert not reply.cards
    assert "Vouliez-vous dire Poya ?" in reply.text
    assert reply.quick_replies[0].title == "Poya"
    assert reply.quick_replies[0].payload == '/find_agency{"agency_query": "Poya"}'


def test_empty_query_asks_for_a_commune():
    reply = agencies_reply("agence", nc(2026, 11, MON, 9))
    assert "commune" in reply.text and len(reply.quick_replies) >= 3


def test_csv_is_reloaded_when_it_changes(tmp_path):
    path = tmp_path / "agences.csv"
    shutil.copyfile(AGENCIES_CSV, path)
    assert any(a.id == "kone" for a in load_agencies(path))
    text = path.read_text(encoding="utf-8").replace("kone,Koné,", "kone,Koné Centre,")
    path.write_text(text, encoding="utf-8")
    assert names_in(load_agencies(path), "kone") == ["Koné Centre"]


def names_in(agencies, query):
    return [a.name for a in search(query, agencies)]
