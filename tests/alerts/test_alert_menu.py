""" "Mes alertes" as the subscriber sees it: the menu of the alerts their plan offers, a threshold
asked with chips, turning alerts off, nights, "Stop alertes"; alerts are part of "mes données" and
of erasure, and a change of line clears them."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.alerts import Alert, AlertKind, AlertSubscription
from bot.services.alerts import menu
from bot.services.identity import linking
from bot.services.privacy import erasure

MARIE_LIBERTE, MARIE_FORFAIT = "791234", "874512"


def chips(reply) -> list[tuple[str, str]]:
    return [(q.title, q.payload) for q in reply.quick_replies]


def test_the_menu_offers_what_the_plan_has_and_asks_the_threshold_with_chips(demo_session, demo_now, linked):
    line = linked("menu", MARIE_LIBERTE)
    first = menu.menu_reply(demo_session, "menu", line)
    assert first.text.startswith("Vos alertes pour la ligne …34 :")
    assert [t for t, _ in chips(first)] == [
        "+ Crédit bas",
        "+ Internet",
        "+ Fin de validité",
        "+ Achats carte",
        "Aussi la nuit",
    ]
    asked = menu.turn_on(demo_session, "menu", line, "low_credit", None, demo_now)
    assert asked.text == "Crédit bas : À partir de quel montant ?"
    assert chips(asked)[1] == ("200 F", '/alert_on{"alert_kind":"low_credit","alert_threshold":"200"}')
    done = menu.turn_on(demo_session, "menu", line, "low_credit", "200", demo_now)
    assert done.text.startswith("C'est noté : je vous préviens quand votre crédit passe sous 200 F.")
    assert "✅ Crédit bas : quand votre crédit passe sous 200 F" in done.text
    assert ("− Crédit bas", '/alert_off{"alert_kind":"low_credit"}') in chips(done)
    assert ("Stop alertes", "/stop_alerts") in chips(done)
    refused = menu.turn_on(demo_session, "menu", line, "out_of_plan", "1000", demo_now)  # not for Liberté
    assert refused.text.startswith("Cette alerte n'existe pas pour votre offre.")
    assert menu.turn_off(demo_session, "menu", line, "low_credit").text.startswith("C'est fait : plus d'alerte")
    assert demo_session.scalars(select(AlertSubscription)).all() == []


def test_nights_and_stop_everything(demo_session, demo_now, linked):
    line = linked("night", MARIE_FORFAIT)
    menu.turn_on(demo_session, "night", line, "data_usage", None, demo_now)
    night = menu.set_night(demo_session, "night", line, "on", demo_now)
    assert "La nuit (21 h – 7 h) : oui" in night.text and (
        "Pas la nuit",
        '/alerts_night{"alert_night":"off"}',
    ) in chips(night)
    stopped = menu.stop_reply(demo_session, "night")
    assert stopped.text.startswith("C'est fait : je ne vous enverrai plus aucune alerte.")
    assert menu.stop_reply(demo_session, "night").text.startswith("Vous n'aviez aucune alerte")


def test_alerts_are_personal_data_erased_with_the_rest(demo_session, demo_now, linked):
    line = linked("mine", MARIE_LIBERTE)
    menu.turn_on(demo_session, "mine", line, "low_credit", "500", demo_now)
    menu.turn_on(demo_session, "mine", line, "expiry", None, demo_now)
    summary = erasure.personal_data_summary(demo_session, "mine").text
    assert "• Alertes demandées : crédit bas (seuil 500 F), fin de validité" in summary
    counts = erasure.erase_personal_data(demo_session, "mine").counts
    assert counts["alert_subscriptions"] == 2
    demo_session.commit()
    assert demo_session.scalars(select(AlertSubscription)).all() == []
    assert demo_session.scalars(select(Alert).where(Alert.psid == "mine")).all() == []


def test_switching_to_another_line_clears_the_alerts_asked_for_the_first(demo_session, demo_now, linked):
    line = linked("switch", MARIE_LIBERTE)
    menu.turn_on(demo_session, "switch", line, "expiry", None, demo_now)
    result = linking.switch_line(demo_session, "switch", MARIE_FORFAIT, demo_now)
    demo_session.commit()
    assert result.ok
    assert demo_session.scalars(select(AlertSubscription).where(AlertSubscription.kind == AlertKind.EXPIRY)).all() == []
