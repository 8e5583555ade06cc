"""Consultation actions on the demo database: the line always comes from the Messenger link."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from actions_helpers import chip_payloads, make_tracker, run_action, texts
from flow_helpers import slots_set

from actions import consultation as actions_module
from actions.consultation import (
    ActionShowBalance,
    ActionShowDocuments,
    ActionShowNotifications,
    ActionShowOffer,
    ActionShowPurchases,
    ActionShowUsage,
)

MARIE = "psid-marie"  # linked to 791234 (Liberté, 2 340 F)
STRANGER = "psid-nobody"  # no link

LINE_ACTIONS = [ActionShowOffer, ActionShowBalance, ActionShowUsage, ActionShowPurchases, ActionShowNotifications]


TOPICS = {
    ActionShowOffer: "voir votre offre",
    ActionShowBalance: "voir votre solde",
    ActionShowUsage: "voir votre consommation",
    ActionShowPurchases: "voir vos achats",
    ActionShowNotifications: "voir vos notifications",
}


@pytest.mark.parametrize("action_class", LINE_ACTIONS)
def test_without_link_the_number_is_asked_and_the_question_kept(consented, action_class):
    consented(STRANGER)
    action = action_class()
    messages, events = run_action(action, make_tracker(STRANGER, action.intent.lstrip("/")))
    assert slots_set(events) == {"pending_request": action.intent}  # answered once the line is verified
    text = texts(messages)
    assert f"Pour {TOPICS[action_class]}, je dois d'abord vérifier votre ligne" in text
    assert not re.search(r"\d F\b", text)  # no amount: nothing about any line is shown
    assert chip_payloads(messages) == ["/help"]
    assert "Simulateur" not in text  # production wording


@pytest.mark.parametrize("action_class", LINE_ACTIONS)
def test_without_consent_the_intro_is_shown_and_the_question_kept(action_db, action_class):
    action = action_class()
    messages, events = run_action(action, make_tracker(STRANGER, action.intent.lstrip("/")))
    assert slots_set(events) == {"pending_request": action.intent, "intro_shown": True}
    assert chip_payloads(messages) == ["/accept_terms", "/decline_terms", "/switch_language"]


def test_dev_mode_adds_the_simulator_hint(consented, monkeypatch):
    monkeypatch.setenv("MOBILIS_DEV_MODE", "1")
    consented(STRANGER)
    messages, _ = run_action(ActionShowBalance(), make_tracker(STRANGER))
    assert "Ligne de démo" in texts(messages)


def test_offer_of_the_linked_line(link):
    link(MARIE, "791234")
    messages, _ = run_action(ActionShowOffer(), make_tracker(MARIE, "show_offer"))
    text = texts(messages)
    assert text.startswith("Votre ligne 79 12 34 : Kit prépayé Liberté")
    assert "/show_balance" in chip_payloads(messages)


def test_balance_of_the_linked_line(link):
    link(MARIE, "791234")
    messages, _ = run_action(ActionShowBalance(), make_tracker(MARIE, "show_balance"))
    assert "2 340 F" in texts(messages)


FORGED_ENTITIES = [
    {"entity": "msisdn", "value": "874512"},
    {"entity": "phone_number", "value": "87 45 12", "extractor": "RegexEntityExtractor"},
    {"entity": "line_id", "value": "2"},
]
FORGED_SLOTS = {"msisdn": "874512", "line_id": 2, "phone_number": "874512"}


@pytest.mark.parametrize("action_class", [ActionShowOffer, ActionShowBalance, ActionShowUsage])
def test_forged_entities_and_slots_cannot_choose_the_line(link, action_class):
    link(MARIE, "791234")
    link("psid-other", "874512")  # Marie's other line is linked to someone else's Messenger
    honest, _ = run_action(action_class(), make_tracker(MARIE))
    forged, _ = run_action(
        action_class(),
        make_tracker(MARIE, entities=FORGED_ENTITIES, slots=FORGED_SLOTS, text='/show_balance{"msisdn": "874512"}'),
    )
    assert texts(forged) == texts(honest)
    assert "87 45 12" not in texts(forged)


def test_forged_number_does_not_help_an_unlinked_user(link, consented):
    link(MARIE, "791234")
    consented(STRANGER)
    messages, _ = run_action(
        ActionShowBalance(), make_tracker(STRANGER, entities=FORGED_ENTITIES[:2], slots={"msisdn": "791234"})
    )
    assert "je dois d'abord vérifier votre ligne" in texts(messages)
    assert "2 340 F" not in texts(messages)


def test_purchases_filtered_by_entities(link):
    link(MARIE, "791234")
    messages, _ = run_action(
        ActionShowPurchases(),
        make_tracker(
            MARIE,
            "show_purchases",
            entities=[
                # what the NLU produces: the regex extractor's raw text and DIET's synonym-mapped value
                {"entity": "month", "value": "sept", "extractor": "RegexEntityExtractor"},
                {"entity": "month", "value": "2", "extractor": "DIETClassifier"},
                {"entity": "product_type", "value": "IMD", "extractor": "DIETClassifier"},
            ],
        ),
    )
    text = texts(messages)
    assert "(Internet à la demande) en février 2026" in text
    assert "/show_purchases" in chip_payloads(messages)  # "Tous mes achats"


def test_purchases_second_page_from_the_payload_entity(link):
    link(MARIE, "791234")
    first, _ = run_action(ActionShowPurchases(), make_tracker(MARIE, "show_purchases"))
    assert "(page 1/2)" in texts(first)
    more = [p for p in chip_payloads(first) if '"page"' in p]
    assert more == ['/show_purchases{"page": 1}']
    second, _ = run_action(
        ActionShowPurchases(), make_tracker(MARIE, "show_purchases", entities=[{"entity": "page", "value": 1}])
    )
    assert "(page 2/2)" in texts(second)


def test_unknown_product_type_is_explained_not_fatal(link):
    link(MARIE, "791234")
    messages, _ = run_action(
        ActionShowPurchases(), make_tracker(MARIE, entities=[{"entity": "product_type", "value": "forfait"}])
    )
    assert "Je ne connais pas le type d'achat « forfait »" in texts(messages)


def test_notifications_are_marked_read_in_the_database(link):
    link(MARIE, "791234")
    first, _ = run_action(ActionShowNotifications(), make_tracker(MARIE))
    second, _ = run_action(ActionShowNotifications(), make_tracker(MARIE))
    assert "[Nouveau]" in texts(first)
    assert "[Nouveau]" not in texts(second)  # the first answer was committed


def test_documents_need_no_link_nor_consent(action_db):
    messages, _ = run_action(ActionShowDocuments(), make_tracker(STRANGER))
    payload = messages[0]["custom"]["attachment"]["payload"]
    assert payload["template_type"] == "button"
    assert all(b["type"] == "web_url" for b in payload["buttons"])
    assert "vérifier votre ligne" not in texts(messages)
    assert "accepter les conditions" in texts(messages)  # public answer: the consent intro, once


def test_a_failing_service_gives_an_apology_with_a_way_forward(link, monkeypatch, caplog):
    link(MARIE, "791234")

    def broken(*_args, **_kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(actions_module.history, "purchases_reply", broken)
    messages, events = run_action(
        ActionShowPurchases(), make_tracker(MARIE, entities=[{"entity": "product_type", "value": "IMD"}])
    )
    assert events == []
    assert "Réessayez" in texts(messages) and "conseiller" in texts(messages)
    assert chip_payloads(messages) == ['/show_purchases{"product_type":"IMD"}', "/human"]
    assert "action_show_purchases failed" in caplog.text


def test_an_unreachable_database_gives_the_apology(action_db, set_env, tmp_path):
    from bot.db.base import engine_for

    set_env("DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/x.db")
    engine_for.cache_clear()
    messages, _ = run_action(ActionShowBalance(), make_tracker(MARIE))
    assert "je n'arrive pas à traiter votre demande" in texts(messages)
    assert chip_payloads(messages) == ["/show_balance", "/human"]


def test_database_work_runs_outside_the_event_loop_thread(link, monkeypatch):
    link(MARIE, "791234")
    seen = {}
    original = actions_module.consultation.balance_reply

    def spy(session, line, *args, **kwargs):
        seen["thread"] = threading.get_ident()
        return original(session, line, *args, **kwargs)

    monkeypatch.setattr(actions_module.consultation, "balance_reply", spy)
    assert asyncio.iscoroutinefunction(ActionShowBalance().run)
    loop_thread = threading.get_ident()  # asyncio.run drives the loop in this thread
    run_action(ActionShowBalance(), make_tracker(MARIE))
    assert seen["thread"] != loop_thread
