"""Consultation replies on the demo data (today = 15/03/2026, now = 12:00 Nouméa)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.account import Balance, BucketKind, Line, Notification, PlanFamily, Subscriber, UsageKind, UsageRecord
from bot.services.account import consultation as c
from bot.services.account import history
from bot.services.account.accounts import unread_count
from bot.services.fr_format import end_of_day, local_date
from bot.services.purchasing.catalogue import sync_catalogue

NEXT_STEP_PAYLOADS = {
    "/show_balance",
    "/show_usage",
    "/show_purchases",
    "/show_offer",
    "/help",
    "/buy",
    "/manage_alerts",
}


def line(session, msisdn) -> Line:
    return session.scalar(select(Line).where(Line.msisdn == msisdn))


def payloads(reply) -> list[str]:
    return [q.payload for q in reply.quick_replies]


def credit(session, msisdn) -> Balance:
    return session.scalar(
        select(Balance).where(Balance.line_id == line(session, msisdn).id, Balance.kind == BucketKind.CREDIT)
    )


# ------------------------------------------------------------------------------ offer


def test_offer_liberte(demo_session, demo_now):
    r = c.offer_reply(demo_session, line(demo_session, "791234"), demo_now)
    assert r.text.splitlines()[:3] == [
        "Votre ligne 79 12 34 : Kit prépayé Liberté (prépayé Liberté).",
        "Prix : 6 000 F à l'achat.",
        "Inclus : 3 000 F de crédit, valable 90 jours.",
    ]
    assert payloads(r) == ["/show_balance", "/buy", "/show_purchases"]


def test_offer_forfait_m_and_unlimited_calls(demo_session, demo_now):
    m = line(demo_session, "874512")
    assert (
        "Inclus : 2 h d'appels, SMS illimités, 10 Go d'Internet chaque mois."
        in c.offer_reply(demo_session, m, demo_now).text
    )
    m.offer_code = "M_100GO"
    demo_session.flush()
    demo_session.expire(m, ["offer"])
    text = c.offer_reply(demo_session, m, demo_now).text
    assert "Forfait M 100 Go" in text and "Prix : 10 000 F par mois." in text
    assert "Inclus : appels illimités, SMS illimités, 100 Go d'Internet chaque mois." in text


@pytest.mark.parametrize(
    "msisdn, expected",
    [
        (
            "951177",
            ["Votre ligne 95 11 77 : Tourism Card.", "Inclus : 2 000 F de crédit, 25 Go d'Internet, valable 90 jours."],
        ),
        (
            "781515",
            [
                "Votre ligne 78 15 15 : Forfait bloqué 2 000 (forfait bloqué).",
                "Inclus : 2 120 F de crédit, 40 SMS chaque mois.",
            ],
        ),
        ("835050", ["Inclus : 2 h d'appels, 100 SMS, 1 Go d'Internet chaque mois.", "(Chiffres indicatifs.)"]),
        (
            "546789",
            ["Votre ligne 54 67 89 : Internet Mobile 4G 25 Go (abonnement data seul).", "Prix : 4 558 F par mois."],
        ),
    ],
)
def test_offer_other_families(demo_session, demo_now, msisdn, expected):
    text = c.offer_reply(demo_session, line(demo_session, msisdn), demo_now).text
    for sentence in expected:
        assert sentence in text.splitlines()


def test_suspended_line_says_so_first(demo_session, demo_now):
    suspended = line(demo_session, "921111")
    for reply in (c.offer_reply, c.balance_reply, c.usage_reply):
        assert reply(demo_session, suspended, demo_now).text.startswith("Attention : cette ligne est suspendue.")
    assert "suspendue" not in c.offer_reply(demo_session, line(demo_session, "874512"), demo_now).text


# ---------------------------------------------------------------------------- balance


def test_balance_liberte_without_warning(demo_session, demo_now):
    r = c.balance_reply(demo_session, line(demo_session, "791234"), demo_now)
    assert r.text == (
        "Solde de la ligne 79 12 34 (prépayé Liberté) :\n"
        "• Crédit : 2 340 F, valable jusqu'au 23/07/2026\n"
        "• SMS : 64, valable jusqu'au 23/07/2026\n"
        "• Internet : 612 Mo (Pass Internet 1 Go), valable jusqu'au 19/03/2026"
    )
    assert payloads(r) == ["/show_usage", "/show_purchases", "/buy"]


def test_balance_credit_expiring_within_7_days(demo_session, demo_now):
    r = c.balance_reply(demo_session, line(demo_session, "797878"), demo_now)
    assert "• Crédit : 780 F, valable jusqu'au 20/03/2026" in r.text
    assert r.text.endswith("Attention : votre crédit expire dans 5 jours, le 20/03/2026. Rechargez pour le conserver.")
    assert payloads(r)[0] == "/buy"


@pytest.mark.parametrize("days, words", [(0, "aujourd'hui"), (1, "demain"), (7, "dans 7 jours")])
def test_balance_expiry_wording(demo_session, demo_now, days, words):
    credit(demo_session, "797878").valid_until = end_of_day(local_date(demo_now) + timedelta(days=days))
    assert f"votre crédit expire {words}," in c.balance_reply(demo_session, line(demo_session, "797878"), demo_now).text


def test_no_warning_at_8_days(demo_session, demo_now):
    credit(demo_session, "797878").valid_until = end_of_day(local_date(demo_now) + timedelta(days=8))
    assert "Attention" not in c.balance_reply(demo_session, line(demo_session, "797878"), demo_now).text


def test_balance_expired_credit(demo_session, demo_now):
    r = c.balance_reply(demo_session, line(demo_session, "771020"), demo_now)
    assert "• Crédit : 320 F, expiré le 09/03/2026" in r.text
    assert "• SMS : 4, expirés le 09/03/2026" in r.text
    assert "Votre crédit de 320 F a expiré le 09/03/2026. Une Recharge Liberté le réactive." in r.text
    assert "expire dans" not in r.text


def test_balance_tourism_card_low_data(demo_session, demo_now):
    r = c.balance_reply(demo_session, line(demo_session, "951177"), demo_now)
    assert "• Crédit : 430 F, valable jusqu'au 24/04/2026" in r.text
    assert "• Internet : 450 Mo (Tourism Card 25 Go), valable jusqu'au 24/04/2026" in r.text
    assert "Internet presque épuisé : plus que 450 Mo (Tourism Card 25 Go)." in r.text


def test_balance_forfait_bloque_low_credit_and_month_end(demo_session, demo_now):
    bloque = line(demo_session, "781515")
    r = c.balance_reply(demo_session, bloque, demo_now)
    assert (
        "• Crédit : 95 F, valable jusqu'au 24/03/2026" in r.text and "• SMS : 3, valable jusqu'au 24/03/2026" in r.text
    )
    assert "Votre crédit est presque épuisé : une Recharge Liberté permet de continuer." in r.text
    assert "se termine" not in r.text  # renewal in 9 days: no warning yet
    credit(demo_session, "781515").valid_until = end_of_day(local_date(demo_now) + timedelta(days=3))
    assert (
        "Votre crédit du mois se termine dans 3 jours (renouvellement le 19/03/2026)."
        in c.balance_reply(demo_session, bloque, demo_now).text
    )


@pytest.mark.parametrize("msisdn", ["874512", "835050", "546789"])
def test_balance_of_postpaid_lines_points_to_usage(demo_session, demo_now, msisdn):
    r = c.balance_reply(demo_session, line(demo_session, msisdn), demo_now)
    assert "pas de crédit à suivre" in r.text and "« Ma conso »" in r.text
    assert payloads(r)[0] == "/show_usage"


def test_balance_of_forfait_m_lists_the_running_top_up(demo_session, demo_now):
    text = c.balance_reply(demo_session, line(demo_session, "874512"), demo_now).text
    assert text.endswith("En plus de votre forfait :\n• Internet : 1 Go (TOP UP 1 Go), valable jusqu'au 02/04/2026")


# ------------------------------------------------------------------------------ usage


def test_usage_forfait_m_with_hors_forfait(demo_session, demo_now):
    r = c.usage_reply(demo_session, line(demo_session, "874512"), demo_now)
    assert r.text == (
        "Consommation de la ligne 87 45 12 du 03/03/2026 au 02/04/2026 :\n"
        "• Appels : 1 h 12 min sur 2 h\n"
        "• SMS : 86 (illimités)\n"
        "• Internet : 9,6 Go sur 10 Go, reste 410 Mo\n"
        "• TOP UP 1 Go : 1 Go restants\n"
        "Hors forfait : 2 965 F au total\n"
        "• 08/03/2026 à 16:05 — Internet à l'étranger (Australie) : 1 750 F\n"
        "• 07/03/2026 à 09:47 — SMS vers l'Australie (+61 4•• ••• •12) : 90 F\n"
        "• 05/03/2026 à 19:12 — Appel vers la France (+33 6•• •• •• 41) : 1 125 F"
    )
    assert payloads(r) == ["/show_purchases", "/buy", "/help"]


def test_usage_forfait_horaire_exhausted(demo_session, demo_now):
    text = c.usage_reply(demo_session, line(demo_session, "835050"), demo_now).text
    assert "• Appels : 2 h sur 2 h (épuisé)" in text
    assert "• SMS : 37 sur 100" in text
    assert "• Internet : 610 Mo sur 1 Go, reste 414 Mo" in text
    assert "Hors forfait : 560 F au total\n• 12/03/2026 à 17:40 — Appels au-delà du forfait (14 min) : 560 F" in text


def test_usage_data_seul(demo_session, demo_now):
    text = c.usage_reply(demo_session, line(demo_session, "546789"), demo_now).text
    assert text == (
        "Consommation de la ligne 54 67 89 du 03/03/2026 au 02/04/2026 :\n"
        "• Internet : 25 Go sur 25 Go (épuisé)\n"
        "• TOP UP 5 Go : 2,2 Go restants\n"
        "Aucun hors forfait sur cette période."
    )


def test_usage_lists_at_most_5_hors_forfait(demo_session, demo_now):
    m = line(demo_session, "874512")
    for i in range(4):
        demo_session.add(
            UsageRecord(
                line_id=m.id,
                occurred_at=demo_now - timedelta(hours=30 + i),
                kind=UsageKind.SMS,
                quantity=1,
                in_plan=False,
                amount_xpf=45,
                description="SMS vers la France",
            )
        )
    text = c.usage_reply(demo_session, m, demo_now).text
    assert "Hors forfait : 3 145 F au total" in text and text.endswith("… et 2 autres.")


def test_usage_prepaid_last_30_days(session, demo_now):
    sync_catalogue(session)
    prepaid = Line(
        msisdn="750000",
        subscriber=Subscriber(first_name="T", last_name="U"),
        plan_family=PlanFamily.LIBERTE,
        offer_code="KIT_LIBERTE",
    )
    session.add(prepaid)
    session.flush()
    for days, kind, qty, amount in [
        (2, UsageKind.VOICE, 750, 500),
        (3, UsageKind.SMS, 3, 60),
        (4, UsageKind.DATA, 1536, 0),
        (40, UsageKind.VOICE, 600, 400),
    ]:
        session.add(
            UsageRecord(
                line_id=prepaid.id,
                occurred_at=demo_now - timedelta(days=days),
                kind=kind,
                quantity=qty,
                amount_xpf=amount,
                description="x",
            )
        )
    r = c.usage_reply(session, prepaid, demo_now)
    assert r.text == (
        "Vos consommations des 30 derniers jours (ligne 75 00 00) :\n• Appels : 12 min 30 s\n"
        "• SMS : 3\n• Internet : 1,5 Go\nCrédit utilisé : 560 F."
    )
    assert payloads(r) == ["/show_balance", "/buy", "/help"]


# -------------------------------------------------------------------------- purchases


def test_purchases_newest_first_paginated(demo_session, demo_now):
    marie = line(demo_session, "791234")
    first = history.purchases_reply(demo_session, marie, demo_now)
    assert first.text == "Vos achats sur les 3 derniers mois : 16 (page 1/2)."
    assert len(first.cards) == 10
    assert (first.cards[0].title, first.cards[0].subtitle) == (
        "Pass Internet 1 Go",
        "12/03/2026 · 1 000 F · crédit · réussi",
    )
    assert first.cards[4].subtitle == "22/02/2026 · 3 000 F · carte bancaire · échoué"
    assert first.quick_replies[0].title == "Voir plus"
    assert first.quick_replies[0].payload == '/show_purchases{"page": 1}'
    assert len(first.quick_replies) == 4
    second = history.purchases_reply(demo_session, marie, demo_now, page=1)
    assert second.text == "Vos achats sur les 3 derniers mois : 16 (page 2/2)." and len(second.cards) == 6
    assert "Voir plus" not in [q.title for q in second.quick_replies]
    assert {card.subtitle for card in first.cards}.isdisjoint({card.subtitle for card in second.cards[1:]})
    assert history.purchases_reply(demo_session, marie, demo_now, page=9).text.endswith("(page 2/2).")


def test_purchases_filter_by_type(demo_session, demo_now):
    marie = line(demo_session, "791234")
    rl = history.purchases_reply(demo_session, marie, demo_now, product_type="RL")
    assert rl.text == "Vos achats (Recharge Liberté) sur les 3 derniers mois : 4."
    assert {card.title for card in rl.cards} == {"Recharge Liberté 3 000"}
    assert payloads(rl)[0] == "/show_purchases"  # "Tous mes achats"
    imd = history.purchases_reply(demo_session, marie, demo_now, product_type="imd")
    assert imd.text.startswith("Vos achats (Internet à la demande) sur les 3 derniers mois : 12 (page 1/2)")
    assert json.loads(imd.quick_replies[0].payload.removeprefix("/show_purchases")) == {
        "page": 1,
        "product_type": "IMD",
    }
    topup = history.purchases_reply(demo_session, line(demo_session, "874512"), demo_now, product_type="top up")
    assert len(topup.cards) == 4 and all(card.subtitle.endswith("sur facture · réussi") for card in topup.cards)


def test_purchases_filter_by_month(demo_session, demo_now):
    marie = line(demo_session, "791234")
    february = history.purchases_reply(demo_session, marie, demo_now, month=2)
    assert february.text == "Vos achats en février 2026 : 6."
    assert all("/02/2026" in card.subtitle for card in february.cards)
    # An explicit month may be older than 3 months: last November.
    november = history.purchases_reply(demo_session, marie, demo_now, month="novembre")
    assert november.text == "Vos achats en novembre 2025 : 2."
    both = history.purchases_reply(demo_session, marie, demo_now, product_type="RL", month=11)
    assert both.text == "Vos achats (Recharge Liberté) en novembre 2025 : 1."
    assert (
        history.purchases_reply(demo_session, marie, demo_now, month=4).text
        == "Aucun achat en avril 2025 sur la ligne 79 12 34."
    )


def test_purchases_bad_filters_fall_back_to_everything(demo_session, demo_now):
    marie = line(demo_session, "791234")
    r = history.purchases_reply(demo_session, marie, demo_now, product_type="forfait", month="13")
    assert r.text.splitlines() == [
        "Je ne connais pas le type d'achat « forfait » : voici tous vos achats.",
        "Je n'ai pas compris le mois « 13 » : voici tous vos achats.",
        "Vos achats sur les 3 derniers mois : 16 (page 1/2).",
    ]


def test_no_purchase_in_3_months(demo_session, demo_now):
    r = history.purchases_reply(demo_session, line(demo_session, "771020"), demo_now)
    assert r.text == "Aucun achat sur les 3 derniers mois sur la ligne 77 10 20." and r.cards == []


# ---------------------------------------------------------------------- notifications


def test_notifications_unread_first_then_marked_read(demo_session, demo_now):
    m = line(demo_session, "874512")
    r = c.notifications_reply(demo_session, m, demo_now)
    assert r.text.splitlines() == [
        "Vous avez 2 notifications non lues :",
        "• [Nouveau] 11/03/2026 — Internet mobile : Vous avez consommé 90 % de l'Internet de votre forfait.",
        "• [Nouveau] 07/03/2026 — Hors forfait : Des consommations hors forfait ont été enregistrées (étranger).",
        "• 03/03/2026 — Facture disponible : Votre facture du mois est disponible dans votre espace client.",
    ]
    demo_session.commit()
    assert unread_count(demo_session, m) == 0
    again = c.notifications_reply(demo_session, m, demo_now)
    assert again.text.startswith("Aucune nouvelle notification. Les dernières :") and "[Nouveau]" not in again.text


def test_old_unread_comes_before_newer_read_and_overflow_is_announced(demo_session, demo_now):
    m = line(demo_session, "546789")
    for i in range(6):
        demo_session.add(
            Notification(line_id=m.id, title=f"Ancienne {i}", body="b", created_at=demo_now - timedelta(days=60 + i))
        )
    r = c.notifications_reply(demo_session, m, demo_now)
    lines = r.text.splitlines()
    assert lines[0] == "Vous avez 6 notifications non lues :"
    assert lines[1].startswith("• [Nouveau] 14/01/2026 — Ancienne 0")
    assert len([x for x in lines if "[Nouveau]" in x]) == 5
    assert lines[-1] == "D'autres notifications non lues suivent : redemandez-les pour les voir."
    assert unread_count(demo_session, m) == 1


def test_no_notification(demo_session, demo_now):
    sylvie = line(demo_session, "797878")
    for n in demo_session.scalars(select(Notification).where(Notification.line_id == sylvie.id)):
        demo_session.delete(n)
    assert c.notifications_reply(demo_session, sylvie, demo_now).text == "Vous n'avez aucune notification."


# -------------------------------------------------------------------------- documents


def test_documents_as_url_buttons():
    r = c.documents_reply()
    assert [(b.title, b.url) for b in r.buttons] == [
        ("CGU", "https://www.opt.nc/conditions-generales-utilisation"),
        ("CGV", "https://www.opt.nc/conditions-generales-de-vente"),
        ("Données personnelles", "https://www.opt.nc/donnees-personnelles"),
    ]
    assert payloads(r) == ["/show_offer", "/help"]


# ----------------------------------------------------------------- limits on every reply


def test_every_reply_respects_messenger_limits_and_offers_next_steps(demo_session, demo_now):
    replies = [c.documents_reply()]
    for each in demo_session.scalars(select(Line)):
        for fn in (c.offer_reply, c.balance_reply, c.usage_reply, history.purchases_reply, c.notifications_reply):
            replies.append(fn(demo_session, each, demo_now))
    for r in replies:
        assert 0 < len(r.text) <= 2000
        steps = [q for q in r.quick_replies if q.title != "Voir plus"]
        assert 2 <= len(steps) <= 3 and len(r.quick_replies) <= 13
        assert all(len(q.title) <= 20 and q.payload.startswith("/") for q in r.quick_replies)
        assert {q.payload for q in steps} <= NEXT_STEP_PAYLOADS
        assert len(r.buttons) <= 3 and len(r.cards) <= 10
        assert all(len(card.title) <= 80 and len(card.subtitle) <= 80 for card in r.cards)


def test_fit_truncates_what_would_break_messenger():
    from bot.services.replies import Card, QuickReply, Reply, fit

    r = fit(
        Reply(
            "x" * 2500,
            quick_replies=[QuickReply("Un titre beaucoup trop long", "/help")] * 20,
            cards=[Card("t" * 100, "s" * 100)] * 12,
        )
    )
    assert len(r.text) == 2000 and r.text.endswith("…")
    assert len(r.quick_replies) == 13 and len(r.quick_replies[0].title) == 20
    assert len(r.cards) == 10 and len(r.cards[0].title) == 80


# ------------------------------------------------------------------ accounts queries


def test_eligible_products_follow_the_catalogue_rules(demo_session):
    from bot.services.account.accounts import eligible_products

    liberte = [
        (p.code, rule.payment_source.value) for p, rule in eligible_products(demo_session, line(demo_session, "791234"))
    ]
    assert liberte == [
        ("IMD_200MO", "credit"),
        ("IMD_1GO", "credit"),
        ("IMD_5GO", "credit"),
        ("RL_1000", "card"),
        ("RL_3000", "card"),
        ("RL_5000", "card"),
    ]
    forfait_m = [
        (p.code, rule.payment_source.value) for p, rule in eligible_products(demo_session, line(demo_session, "874512"))
    ]
    assert forfait_m == [("TOPUP_1GO", "bill"), ("TOPUP_5GO", "bill"), ("TOPUP_20GO", "bill")]
    assert [p.type.value for p, _ in eligible_products(demo_session, line(demo_session, "781515"))] == ["RL"] * 3
