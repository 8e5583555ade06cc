"""Consultations narrowed to what was asked: one part of the balance ("il me reste combien
d'internet ?", "et en sms ?"), another period of usage ("le mois dernier"), purchase history of a
relative month or a day ("mes recharges du mois dernier", "mon pass de lundi"), the filter always
named in the first line. Demo data: today = 15/03/2026 (a Sunday), now = 12:00 Nouméa."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.account import Line
from bot.services.account import consultation as c
from bot.services.account import history


def line(session, msisdn) -> Line:
    return session.scalar(select(Line).where(Line.msisdn == msisdn))


def test_data_left_on_a_prepaid_line(demo_session, demo_now):
    r = c.balance_reply(demo_session, line(demo_session, "791234"), demo_now, facet="data")
    assert r.text.splitlines() == [
        "Internet restant sur la ligne 79 12 34 :",
        "• Internet : 612 Mo (Pass Internet 1 Go), valable jusqu'au 19/03/2026",
    ]
    assert [q.title for q in r.quick_replies][:2] == ["Tout mon solde", "Acheter internet"]


def test_data_left_on_a_forfait_counts_the_allowance_and_the_top_up(demo_session, demo_now):
    r = c.balance_reply(demo_session, line(demo_session, "874512"), demo_now, facet="data")
    assert r.text.splitlines() == [
        "Internet restant sur la ligne 87 45 12 :",
        "• Forfait : 410 Mo sur 10 Go jusqu'au 02/04/2026",
        "• Internet : 1 Go (TOP UP 1 Go), valable jusqu'au 02/04/2026",
    ]


def test_sms_voice_and_credit_parts(demo_session, demo_now):
    marie = line(demo_session, "791234")
    assert c.balance_reply(demo_session, marie, demo_now, facet="sms").text.splitlines() == [
        "SMS restants sur la ligne 79 12 34 :",
        "• SMS : 64, valable jusqu'au 23/07/2026",
    ]
    assert "payés sur votre crédit" in c.balance_reply(demo_session, marie, demo_now, facet="voice").text
    forfait = c.balance_reply(demo_session, line(demo_session, "874512"), demo_now, facet="credit")
    assert "Pas de crédit à suivre" in forfait.text
    assert (
        c.balance_reply(demo_session, line(demo_session, "874512"), demo_now, facet="sms").text.splitlines()[1]
        == "• Forfait : SMS illimités jusqu'au 02/04/2026"
    )


def test_low_data_is_still_warned_about(demo_session, demo_now):
    r = c.balance_reply(demo_session, line(demo_session, "951177"), demo_now, facet="data")
    assert r.text.endswith("Internet presque épuisé : plus que 450 Mo (Tourism Card 25 Go).")


def test_usage_of_the_previous_billing_period(demo_session, demo_now):
    r = c.usage_reply(demo_session, line(demo_session, "874512"), demo_now, months_back=1)
    assert r.text.splitlines()[0] == "Consommation de la ligne 87 45 12 du 03/02/2026 au 02/03/2026 :"
    assert "• Internet : 9,1 Go sur 10 Go, reste 935 Mo" in r.text
    december = c.usage_reply(demo_session, line(demo_session, "874512"), demo_now, month=12)
    assert december.text.splitlines()[0] == "Consommation de la ligne 87 45 12 du 03/12/2025 au 02/01/2026 :"


def test_usage_of_one_part(demo_session, demo_now):
    data = c.usage_reply(demo_session, line(demo_session, "874512"), demo_now, facet="data")
    assert data.text.splitlines() == [
        "Consommation Internet de la ligne 87 45 12 du 03/03/2026 au 02/04/2026 :",
        "• Internet : 9,6 Go sur 10 Go, reste 410 Mo",
        "• TOP UP 1 Go : 1 Go restants",
    ]
    extras = c.usage_reply(demo_session, line(demo_session, "874512"), demo_now, facet="out_of_plan", months_back=1)
    assert extras.text.splitlines()[:2] == [
        "Hors forfait de la ligne 87 45 12 du 03/02/2026 au 02/03/2026 :",
        "Hors forfait : 450 F au total",
    ]


def test_prepaid_usage_of_last_month(demo_session, demo_now):
    r = c.usage_reply(demo_session, line(demo_session, "791234"), demo_now, months_back=1)
    assert r.text.splitlines()[0] == "Vos consommations de février 2026 (ligne 79 12 34) :"
    data = c.usage_reply(demo_session, line(demo_session, "791234"), demo_now, facet="data")
    assert data.text.splitlines()[0] == "Consommation Internet des 30 derniers jours (ligne 79 12 34) :"


def test_purchases_of_last_month_named_in_the_first_line(demo_session, demo_now):
    r = history.purchases_reply(demo_session, line(demo_session, "791234"), demo_now, period="m1")
    assert r.text == "Vos achats du mois dernier (février 2026) : 6."
    assert all("/02/2026" in card.subtitle for card in r.cards)
    none = history.purchases_reply(demo_session, line(demo_session, "791234"), demo_now, product_type="RL", period="m0")
    assert none.text == "Aucun achat (Recharge Liberté) de ce mois-ci (mars 2026) sur la ligne 79 12 34."
    assert none.quick_replies[0].title == "Tous mes achats"


def test_purchases_of_a_day(demo_session, demo_now):
    thursday = history.purchases_reply(demo_session, line(demo_session, "791234"), demo_now, period="w3")
    assert thursday.text == "Vos achats du jeudi 12/03/2026 : 1."
    assert thursday.cards[0].subtitle == "12/03/2026 · 1 000 F · crédit · réussi"
    yesterday = history.purchases_reply(demo_session, line(demo_session, "791234"), demo_now, period="d1")
    assert yesterday.text == "Aucun achat d'hier (14/03/2026) sur la ligne 79 12 34."
