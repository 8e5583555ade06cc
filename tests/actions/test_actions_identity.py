"""Identity actions: consent gate, linking by SMS code with the pending question answered in the
same turn, switching and unlinking, personal data."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from actions_helpers import chip_payloads, texts
from flow_helpers import (
    Clock,
    all_chips,
    consent,
    last_code,
    line_id,
    link_only,
    run,
    run_action,
    run_coroutine,
    slots_set,
    sms_count,
    tracker,
)
from sqlalchemy import func, select

from actions import identity as actions_module
from actions import replay
from actions.consultation import ActionShowBalance, ActionShowDocuments, ActionShowPurchases
from actions.identity import (
    ActionAcceptTerms,
    ActionCancelUnlink,
    ActionConfirmRevoke,
    ActionConfirmUnlink,
    ActionDeclineTerms,
    ActionEraseData,
    ActionEraseDataAsk,
    ActionEraseDataCancel,
    ActionLinkedAccounts,
    ActionLinkStep,
    ActionMyData,
    ActionResendCode,
    ActionRevokeAccountAsk,
    ActionSwitchLine,
    ActionUnlinkLine,
    ActionWelcome,
)
from bot import clock as bot_clock
from bot.db.base import session_scope
from bot.db.identity import Consent, MessengerLink
from bot.services.privacy.consent import needs_consent

MARIE = "psid-marie"  # will hold 791234 (Liberté, 2 340 F); same subscriber as 874512
STRANGER = "psid-stranger"


@pytest.fixture
def clock(action_db, demo_now, monkeypatch):
    clock = Clock(demo_now)
    monkeypatch.setattr(bot_clock, "utcnow", clock)
    monkeypatch.setenv("MOBILIS_OTP_PEPPER", "test-pepper")
    monkeypatch.delenv("SMS_GATEWAY", raising=False)
    monkeypatch.delenv("MOBILIS_CGU_VERSION", raising=False)
    return clock


@pytest.fixture
def marie(clock, demo_now):
    consent(MARIE, demo_now)
    link_only(MARIE, "791234", clock.now)
    return MARIE


def linked_line(psid: str) -> int | None:
    with session_scope() as session:
        return session.scalar(select(MessengerLink.line_id).where(MessengerLink.psid == psid))


def ask_balance(psid: str, slots: dict | None = None):
    return run_coroutine(
        lambda d: run_action(ActionShowBalance(), d, tracker(psid, "show_balance", "/show_balance", slots=slots))
    )


# ------------------------------------------------------------------ welcome and consent


def test_welcome_shows_the_consent_intro_to_a_new_user(clock):
    messages, events = run(ActionWelcome(), tracker(STRANGER, "get_started", "/get_started"))
    assert "robot" in texts(messages) and "données sensibles" in texts(messages)
    assert chip_payloads(messages) == ["/accept_terms", "/decline_terms", "/switch_language"]
    assert slots_set(events) == {"intro_shown": True}


def test_welcome_greets_a_consented_user_with_the_menu(clock, demo_now):
    consent(STRANGER, demo_now)
    messages, events = run(ActionWelcome(), tracker(STRANGER, "greet", "bonjour"))
    assert texts(messages).startswith("Bonjour !")
    assert "/show_balance" in chip_payloads(messages) and "/accept_terms" not in chip_payloads(messages)
    assert events == []


def test_welcome_without_database_still_says_it_is_a_bot(clock, set_env, tmp_path):
    from bot.db.base import engine_for

    set_env("DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/x.db")
    engine_for.cache_clear()
    messages, _ = run(ActionWelcome(), tracker(STRANGER, "greet", "bonjour"))
    assert "robot" in texts(messages)


def test_consent_gate_then_linking_answers_the_pending_balance_in_the_same_turn(clock):
    # 1. An unconsented user asks for the balance: intro, and the question is kept.
    messages, events = ask_balance(STRANGER)
    assert "accepter les conditions" in texts(messages) and "2 340 F" not in texts(messages)
    assert slots_set(events) == {"pending_request": "/show_balance", "intro_shown": True}
    slots = {"pending_request": "/show_balance", "intro_shown": True}

    # 2. Accept → recorded, and the number is asked (the question stays pending).
    messages, events = run(ActionAcceptTerms(), tracker(STRANGER, "accept_terms", "/accept_terms", slots=slots))
    assert "Pour voir votre solde, je dois d'abord vérifier votre ligne" in texts(messages)
    assert "numéro Mobilis" in texts(messages)
    assert events == []
    with session_scope() as session:
        assert not needs_consent(session, STRANGER)

    # 3. The number → a code in the SMS outbox.
    messages, _ = run(ActionLinkStep(), tracker(STRANGER, "link_line", "mon numero c 79 12 34", slots=slots))
    assert "un code à 6 chiffres vient d'y être envoyé" in texts(messages)
    code = last_code("791234")

    # 4. The code → linked, and the balance answered right away; the slot is cleared.
    messages, events = run(ActionLinkStep(), tracker(STRANGER, "give_code", f"le code c {code}", slots=slots))
    text = texts(messages)
    assert "la ligne 79 12 34 est reliée" in text
    assert "2 340 F" in text
    assert slots_set(events) == {"pending_request": None}
    assert linked_line(STRANGER) == line_id("791234")


def test_pending_purchases_filter_survives_consent_and_linking(clock):
    consent(STRANGER, clock.now)
    _, events = run_coroutine(
        lambda d: run_action(
            ActionShowPurchases(),
            d,
            tracker(
                STRANGER,
                "show_purchases",
                '/show_purchases{"product_type":"IMD"}',
                entities=[{"entity": "product_type", "value": "IMD"}],
            ),
        )
    )
    pending = slots_set(events)["pending_request"]
    assert pending == '/show_purchases{"product_type":"IMD"}'
    link_only(STRANGER, "791234", clock.now)
    reply = replay.answer_pending(STRANGER, pending)
    assert "(Internet à la demande)" in reply.text


def test_accept_when_already_linked_answers_the_pending_question(clock):
    link_only(STRANGER, "791234", clock.now)  # linked earlier, consent asked again (new CGU version)
    messages, events = run(
        ActionAcceptTerms(),
        tracker(STRANGER, "accept_terms", "/accept_terms", slots={"pending_request": "/show_balance"}),
    )
    assert "2 340 F" in texts(messages)
    assert slots_set(events) == {"pending_request": None}


def test_accept_without_pending_question_asks_for_the_number(clock):
    messages, events = run(ActionAcceptTerms(), tracker(STRANGER, "accept_terms", "j'accepte"))
    assert texts(messages).startswith("Merci, c'est noté !")
    assert "indiquez votre numéro Mobilis" in texts(messages)
    assert events == []


def test_accept_twice_keeps_one_consent(clock):
    run(ActionAcceptTerms(), tracker(STRANGER, "accept_terms", "/accept_terms"))
    run(ActionAcceptTerms(), tracker(STRANGER, "accept_terms", "/accept_terms"))
    with session_scope() as session:
        assert session.scalar(select(func.count(Consent.id)).where(Consent.psid == STRANGER)) == 1


def test_decline_keeps_public_help_and_forgets_the_question(clock):
    messages, events = run(
        ActionDeclineTerms(),
        tracker(STRANGER, "decline_terms", "/decline_terms", slots={"pending_request": "/show_balance"}),
    )
    assert "Sans votre accord" in texts(messages)
    assert {"/accept_terms", "/help", "/find_agency", "/human"} <= set(chip_payloads(messages))
    assert slots_set(events) == {"pending_request": None, "intro_shown": True}
    with session_scope() as session:
        assert needs_consent(session, STRANGER)


def test_documents_stay_public_through_the_gate(clock):
    messages, _ = run_coroutine(
        lambda d: run_action(
            ActionShowDocuments(),
            d,
            tracker(STRANGER, "show_documents", "/show_documents", slots={"intro_shown": True}),
        )
    )
    assert "accepter les conditions" not in texts(messages)
    assert messages[0]["custom"]["attachment"]["payload"]["template_type"] == "button"


def test_consented_but_unlinked_question_is_kept_and_the_number_asked(clock):
    consent(STRANGER, clock.now)
    messages, events = ask_balance(STRANGER)
    assert "Pour voir votre solde, je dois d'abord vérifier votre ligne" in texts(messages)
    assert slots_set(events) == {"pending_request": "/show_balance"}


# ------------------------------------------------------------------ linking


def test_linking_is_gated_by_consent_and_sends_nothing(clock):
    messages, events = run(ActionLinkStep(), tracker(STRANGER, "link_line", "79 12 34"))
    assert chip_payloads(messages) == ["/accept_terms", "/decline_terms", "/switch_language"]
    assert slots_set(events) == {"intro_shown": True}
    assert sms_count("791234") == 0


def test_wrong_code_does_not_link(clock):
    consent(STRANGER, clock.now)
    run(ActionLinkStep(), tracker(STRANGER, "link_line", "79 12 34"))
    good = last_code("791234")
    wrong = "000000" if good != "000000" else "111111"
    messages, _ = run(ActionLinkStep(), tracker(STRANGER, "give_code", wrong))
    assert "Ce code n'est pas le bon. Il vous reste 2 essais." in texts(messages)
    assert linked_line(STRANGER) is None


def test_code_typed_with_a_space_is_accepted(clock):
    consent(STRANGER, clock.now)
    run(ActionLinkStep(), tracker(STRANGER, "link_line", "791234"))
    code = last_code("791234")
    messages, _ = run(ActionLinkStep(), tracker(STRANGER, "give_code", f"{code[:3]} {code[3:]}"))
    assert "est reliée" in texts(messages)
    assert "/show_balance" in chip_payloads(messages)  # no pending question: the menu


def test_a_new_number_written_as_pairs_during_a_challenge_starts_again(clock):
    consent(STRANGER, clock.now)
    run(ActionLinkStep(), tracker(STRANGER, "link_line", "79 12 34"))
    clock.now += timedelta(seconds=61)  # past the resend cooldown
    messages, _ = run(ActionLinkStep(), tracker(STRANGER, "link_line", "en fait c'est le 79 78 78"))
    assert "un code à 6 chiffres vient d'y être envoyé" in texts(messages)
    assert sms_count("797878") == 1


def test_a_landline_is_explained(clock):
    consent(STRANGER, clock.now)
    messages, _ = run(ActionLinkStep(), tracker(STRANGER, "link_line", "mon numero c 27 12 34"))
    assert "ligne fixe" in texts(messages)


def test_a_code_without_any_challenge_is_explained(clock):
    consent(STRANGER, clock.now)
    messages, _ = run(ActionLinkStep(), tracker(STRANGER, "give_code", "482913"))
    assert "Je n'ai pas de code en attente pour vous" in texts(messages)


def test_an_expired_code_is_explained(clock):
    consent(STRANGER, clock.now)
    run(ActionLinkStep(), tracker(STRANGER, "link_line", "79 12 34"))
    code = last_code("791234")
    clock.now += timedelta(minutes=6)
    messages, _ = run(ActionLinkStep(), tracker(STRANGER, "give_code", code))
    assert "Ce code a expiré" in texts(messages)
    assert linked_line(STRANGER) is None


def test_no_number_asks_for_it(clock):
    consent(STRANGER, clock.now)
    messages, _ = run(ActionLinkStep(), tracker(STRANGER, "link_line", "/link_line"))
    assert "indiquez votre numéro Mobilis" in texts(messages)


def test_resend_code_respects_the_cooldown_then_sends(clock):
    consent(STRANGER, clock.now)
    run(ActionLinkStep(), tracker(STRANGER, "link_line", "79 12 34"))
    messages, _ = run(ActionResendCode(), tracker(STRANGER, "resend_code", "/resend_code"))
    assert "Vous pourrez en demander un nouveau dans 60 secondes" in texts(messages)
    clock.now += timedelta(seconds=61)
    messages, _ = run(ActionResendCode(), tracker(STRANGER, "resend_code", "renvoie le code"))
    assert "un nouveau code vient d'y être envoyé" in texts(messages)
    assert sms_count("791234") == 2


def test_a_service_error_gives_the_apology_with_a_human(clock, monkeypatch, caplog):
    consent(STRANGER, clock.now)

    def broken(*_args, **_kwargs):
        raise RuntimeError("sms gateway on fire")

    monkeypatch.setattr(actions_module.linking, "start_linking", broken)
    messages, events = run(
        ActionLinkStep(),
        tracker(
            STRANGER,
            "link_line",
            '/link_line{"phone_number":"791234"}',
            entities=[{"entity": "phone_number", "value": "791234"}],
        ),
    )
    assert events == []
    assert "Désolé, je n'arrive pas à traiter votre demande" in texts(messages)
    assert all_chips(messages) == [("Réessayer", '/link_line{"phone_number":"791234"}'), ("Un conseiller", "/human")]
    assert "action_link_step failed" in caplog.text


# ------------------------------------------------------------------ switching, unlinking, data


def test_switch_line_lists_the_other_lines_of_the_subscriber(marie):
    messages, _ = run(ActionSwitchLine(), tracker(MARIE, "switch_line", "changer de ligne"))
    assert chip_payloads(messages) == ['/switch_line{"msisdn":"874512"}']


def test_switch_to_another_line_of_the_same_subscriber(marie):
    messages, _ = run(
        ActionSwitchLine(),
        tracker(
            MARIE, "switch_line", '/switch_line{"msisdn":"874512"}', entities=[{"entity": "msisdn", "value": "874512"}]
        ),
    )
    assert "la ligne 87 45 12" in texts(messages)
    assert linked_line(MARIE) == line_id("874512")


@pytest.mark.parametrize(
    "entities, text",
    [
        ([{"entity": "msisdn", "value": "797878"}], '/switch_line{"msisdn":"797878"}'),  # Sylvie's line
        ([{"entity": "phone_number", "value": "79 78 78"}], "passe sur le 79 78 78"),
        ([], "mets moi sur la ligne 797878"),
    ],
)
def test_forged_switch_to_another_subscribers_line_is_refused(marie, clock, entities, text):
    link_only("psid-sylvie", "797878", clock.now)
    messages, _ = run(
        ActionSwitchLine(), tracker(MARIE, "switch_line", text, entities=entities, slots={"msisdn": "797878"})
    )
    assert "ne fait pas partie des lignes de votre compte" in texts(messages)
    assert linked_line(MARIE) == line_id("791234")
    balance, _ = ask_balance(MARIE)
    assert "2 340 F" in texts(balance) and "780 F" not in texts(balance)


def test_unlink_asks_first_then_the_chip_removes_the_link(marie):
    messages, events = run(ActionUnlinkLine(), tracker(MARIE, "unlink_line", "enleve mon numero"))
    assert texts(messages).startswith("Voulez-vous délier la ligne 79 12 34")
    assert chip_payloads(messages) == ["/confirm_unlink", "/cancel_unlink"]
    assert linked_line(MARIE) is not None and events == []
    messages, events = run(ActionConfirmUnlink(), tracker(MARIE, "confirm_unlink", "/confirm_unlink"))
    assert "n'est plus reliée" in texts(messages)
    assert linked_line(MARIE) is None
    assert slots_set(events) == {"pending_request": None}


def test_a_typed_yes_unlinks_only_right_after_the_question(marie):
    asked = {"source": "typed", "context": {"question": {"kind": "unlink_confirmation"}}}
    messages, _ = run(ActionConfirmUnlink(), tracker(MARIE, "confirm_unlink", "oui", metadata={"source": "typed"}))
    assert texts(messages).startswith("Je n'ai pas bien compris votre réponse. Voulez-vous délier")
    messages, _ = run(ActionConfirmUnlink(), tracker(MARIE, "confirm_unlink", "oui si tu veux", metadata=asked))
    assert linked_line(MARIE) is not None
    messages, _ = run(ActionCancelUnlink(), tracker(MARIE, "cancel_unlink", "non", metadata=asked))
    assert texts(messages).startswith("D'accord, la ligne 79 12 34 reste reliée")
    run(ActionConfirmUnlink(), tracker(MARIE, "confirm_unlink", "oui", metadata=asked))
    assert linked_line(MARIE) is None


def test_my_data_needs_no_consent(clock):
    link_only(STRANGER, "791234", clock.now)
    messages, events = run(ActionMyData(), tracker(STRANGER, "my_data", "mes donnees"))
    text = texts(messages)
    assert "Ligne reliée : 79****" in text and "pas encore acceptées" in text
    assert "/erase_my_data" in chip_payloads(messages)
    assert events == []


def test_erase_flow(marie):
    messages, _ = run(ActionEraseDataAsk(), tracker(MARIE, "erase_data", "efface mes donnees"))
    assert chip_payloads(messages) == ["/confirm_erase_data", "/cancel_erase_data"]
    messages, _ = run(ActionEraseDataCancel(), tracker(MARIE, "cancel_erase_data", "/cancel_erase_data"))
    assert "je n'efface rien" in texts(messages)
    assert linked_line(MARIE) is not None
    messages, events = run(
        ActionEraseData(),
        tracker(
            MARIE,
            "confirm_erase_data",
            "/confirm_erase_data",
            slots={"pending_request": "/show_usage", "intro_shown": True},
        ),
    )
    assert "C'est fait. J'ai effacé" in texts(messages)
    # the webhook is told to erase Rasa's tracker once this turn is saved
    assert {"mobilis_forget_conversation": True} in [m.get("custom") for m in messages]
    assert slots_set(events) == {"pending_request": None, "intro_shown": None}
    assert linked_line(MARIE) is None
    with session_scope() as session:
        assert needs_consent(session, MARIE)


def test_another_account_is_removed_only_by_a_clear_yes_to_that_question(marie, clock, demo_now):
    consent(STRANGER, demo_now)
    link_only(STRANGER, "791234", clock.now)
    messages, _ = run(ActionLinkedAccounts(), tracker(MARIE, "linked_accounts", "/linked_accounts"))
    [(_title, chip)] = [(t, p) for t, p in all_chips(messages) if p.startswith("/revoke_account")]
    link = json.loads("{" + chip.split("{", 1)[1])["link"]
    messages, _ = run(
        ActionRevokeAccountAsk(), tracker(MARIE, "revoke_account", chip, entities=[{"entity": "link", "value": link}])
    )
    assert "Confirmez-vous" in texts(messages)
    asked = {"source": "typed", "context": {"question": {"kind": "revoke_confirmation", "link": link}}}
    for hesitant in ("euh oui peut etre", "attends", "c'est qui ?"):
        run(ActionConfirmRevoke(), tracker(MARIE, "confirm_revoke", hesitant, metadata=asked))
        assert linked_line(STRANGER) is not None
    run(ActionConfirmRevoke(), tracker(MARIE, "confirm_revoke", "oui retire le", metadata=asked))
    with session_scope() as session:
        assert session.scalar(select(MessengerLink.via).where(MessengerLink.psid == STRANGER)) == "revoked"
    messages, _ = ask_balance(STRANGER)
    assert "a retiré l'accès de ce compte Messenger" in texts(messages)


def test_a_tourism_card_linked_in_french_is_offered_english(clock):
    consent(STRANGER, clock.now)
    run(ActionLinkStep(), tracker(STRANGER, "link_line", "95 11 77"))  # the demo Tourism Card
    messages, _ = run(ActionLinkStep(), tracker(STRANGER, "give_code", last_code("951177")))
    assert "Touchez « English » pour continuer en anglais" in texts(messages)
    assert chip_payloads(messages)[0] == "/switch_language"


def test_a_liberte_line_is_not_offered_english(clock):
    consent(STRANGER, clock.now)
    run(ActionLinkStep(), tracker(STRANGER, "link_line", "79 12 34"))
    messages, _ = run(ActionLinkStep(), tracker(STRANGER, "give_code", last_code("791234")))
    assert "English" not in texts(messages) and "/switch_language" not in chip_payloads(messages)


def test_the_french_greeting_offers_english_and_the_english_one_does_not():
    from actions.identity import greeting_reply
    from bot.services.i18n import speaking

    assert [q.payload for q in greeting_reply().quick_replies][-1] == "/switch_language"
    with speaking("en"):
        assert "/switch_language" not in [q.payload for q in greeting_reply().quick_replies]
