"""Purchase actions: summary from a typed request, exactly one purchase per quote, a typed
confirmation only as a clear yes to the summary the user last saw (typed cancellation: the PSID's
latest open quote), no way to act on another line."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from actions_helpers import chip_payloads, texts
from flow_helpers import (
    Clock,
    all_chips,
    consent,
    line_id,
    link_only,
    run,
    run_action,
    run_coroutine,
    slots_set,
    tracker,
)
from sqlalchemy import func, select

from actions import purchases as actions_module
from actions import replay
from actions.consultation import ActionShowBalance
from actions.purchases import ActionBuy, ActionCancelPurchase, ActionChooseProduct, ActionConfirmPurchase
from bot import clock as bot_clock
from bot.db.base import session_scope
from bot.db.purchasing import Purchase, PurchaseQuote, QuoteStatus
from bot.services.purchasing import quotes as purchase_quotes

MARIE = "psid-marie"  # 791234, Liberté: RL by card, IMD from credit (2 340 F)
SYLVIE = "psid-sylvie"  # 797878, Liberté, another subscriber


@pytest.fixture
def clock(action_db, demo_now, monkeypatch):
    clock = Clock(demo_now)
    monkeypatch.setattr(bot_clock, "utcnow", clock)
    # Card payments with the local test page (dev), as in the purchase service tests.
    monkeypatch.setenv("MOBILIS_DEV_MODE", "1")
    monkeypatch.setenv("MOBILIS_PAYMENT_PROVIDER", "local")
    monkeypatch.setenv("MOBILIS_PAYMENT_SECRET", "test-payment-secret")
    for name in (
        "MOBILIS_QUOTE_TTL_MINUTES",
        "MOBILIS_DAILY_PURCHASE_COUNT",
        "MOBILIS_DAILY_PURCHASE_XPF",
        "MOBILIS_CGU_VERSION",
    ):
        monkeypatch.delenv(name, raising=False)
    return clock


@pytest.fixture
def users(clock, demo_now):
    for psid, msisdn in ((MARIE, "791234"), (SYLVIE, "797878")):
        consent(psid, demo_now)
        link_only(psid, msisdn, demo_now)


def buy(psid: str, text: str, entities=None, slots=None):
    return run(ActionBuy(), tracker(psid, "buy", text, entities=entities, slots=slots))


def quote_payloads(messages) -> tuple[str, str]:
    chips = dict(all_chips(messages))
    return chips["Confirmer"], chips["Annuler"]


def token_of(payload: str) -> str:
    return json.loads(payload[payload.index("{") :])["quote"]


def confirm(psid: str, payload: str):
    return run(
        ActionConfirmPurchase(),
        tracker(psid, "confirm_purchase", payload, entities=[{"entity": "quote", "value": token_of(payload)}]),
    )


def purchases_of(msisdn: str) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count(Purchase.id)).where(Purchase.line_id == line_id(msisdn)))


def quote_status(token: str) -> QuoteStatus:
    with session_scope() as session:
        return session.scalar(select(PurchaseQuote.status).where(PurchaseQuote.token == token))


def test_typed_recharge_gives_the_summary_with_confirm_and_cancel(users):
    messages, events = buy(MARIE, "recharge 3000")
    text = texts(messages)
    assert text.startswith("Récapitulatif avant achat")
    assert "Recharge Liberté 3 000" in text and "• Ligne : 79 12 34" in text
    ok, cancel = quote_payloads(messages)
    assert ok.startswith('/confirm_purchase{"quote":') and cancel.startswith('/cancel_purchase{"quote":')
    assert token_of(ok) == token_of(cancel)
    assert events == []


def test_confirm_twice_makes_one_purchase(users):
    before = purchases_of("791234")
    messages, _ = buy(MARIE, "recharge 3000")
    ok, _ = quote_payloads(messages)
    first, _ = confirm(MARIE, ok)
    second, _ = confirm(MARIE, ok)
    assert "Pour payer 3 000 F" in texts(first)
    assert "Votre paiement est déjà en attente" in texts(second)
    assert purchases_of("791234") == before + 1


def test_confirm_from_credit_twice_debits_once(users):
    before = purchases_of("791234")
    messages, _ = buy(MARIE, "je veux un pass internet 1 go")
    ok, _ = quote_payloads(messages)
    first, _ = confirm(MARIE, ok)
    second, _ = confirm(MARIE, ok)
    assert "C'est fait, merci ! Voici votre reçu." in texts(first)
    assert "Crédit restant : 1 340 F" in texts(first)
    assert "Cet achat est déjà fait" in texts(second) and "1 340 F" in texts(second)
    assert purchases_of("791234") == before + 1


def summary_context(token: str) -> dict:
    """The metadata the webhook sends after the summary of `token` (docs/contracts.md)."""
    return {
        "source": "typed",
        "context": {"question": {"kind": "purchase_confirmation", "quote": token, "price": 1000, "data_mb": 1024}},
    }


def test_a_typed_yes_confirms_the_summary_the_user_last_saw(users):
    buy(MARIE, "recharge 1000")
    messages, _ = buy(MARIE, "je veux un pass internet 1 go")  # supersedes the first summary
    ok, _ = quote_payloads(messages)
    done, _ = run(
        ActionConfirmPurchase(),
        tracker(MARIE, "confirm_purchase", "oui je confirme", metadata=summary_context(token_of(ok))),
    )
    assert "Pass Internet 1 Go" in texts(done) and "reçu" in texts(done)
    assert quote_status(token_of(ok)) == QuoteStatus.CONFIRMED


@pytest.mark.parametrize(
    "text, metadata",
    [
        ("oui je confirme", None),  # the NLU said confirm_purchase, but no summary is the last question
        ("je ne confirme pas", "summary"),  # the NLU once read this as a yes
        ("/confirm_purchase", "summary"),  # a payload typed by hand (the webhook removes the slash)
        ("oui mais le 5 go plutot", "summary"),
    ],
)
def test_nothing_is_bought_without_a_clear_yes_to_that_summary(users, text, metadata):
    messages, _ = buy(MARIE, "je veux un pass internet 1 go")
    ok, _ = quote_payloads(messages)
    before = purchases_of("791234")
    context = summary_context(token_of(ok)) if metadata else {"source": "typed"}
    done, _ = run(ActionConfirmPurchase(), tracker(MARIE, "confirm_purchase", text, metadata=context))
    assert purchases_of("791234") == before
    assert quote_status(token_of(ok)) == QuoteStatus.OPEN
    assert texts(done).startswith("Je n'ai pas bien compris votre réponse.")
    assert [title for title, _ in all_chips(done)] == ["Confirmer", "Annuler"]


def test_typed_cancel_cancels_the_latest_quote(users):
    messages, _ = buy(MARIE, "recharge 3000")
    _, cancel = quote_payloads(messages)
    done, _ = run(ActionCancelPurchase(), tracker(MARIE, "cancel_purchase", "annuler"))
    assert "C'est annulé. Rien n'a été acheté ni débité." in texts(done)
    assert quote_status(token_of(cancel)) == QuoteStatus.CANCELLED
    again, _ = run(ActionCancelPurchase(), tracker(MARIE, "cancel_purchase", "laisse tomber"))
    assert "rien à annuler" in texts(again)


def test_typed_confirmation_with_nothing_open(users):
    messages, _ = run(ActionConfirmPurchase(), tracker(MARIE, "confirm_purchase", "je confirme"))
    assert "aucun achat en attente de confirmation" in texts(messages)
    assert "/buy" in chip_payloads(messages)


def test_choose_product_payload_gives_the_summary(users):
    messages, _ = run(
        ActionChooseProduct(),
        tracker(
            MARIE,
            "choose_product",
            '/choose_product{"product":"IMD_1GO"}',
            entities=[{"entity": "product", "value": "IMD_1GO"}],
        ),
    )
    assert "Pass Internet 1 Go" in texts(messages) and "Récapitulatif" in texts(messages)


def test_buy_payload_lists_the_products(users):
    messages, _ = buy(MARIE, '/buy{"product_type":"IMD"}', entities=[{"entity": "product_type", "value": "IMD"}])
    assert "Voici ce que vous pouvez acheter pour la ligne 79 12 34" in texts(messages)
    cards = messages[-1]["custom"]["attachment"]["payload"]["elements"]
    assert cards and all("Pass Internet" in c["title"] for c in cards)


# ------------------------------------------------------------------ security


def test_a_quote_of_another_psid_cannot_be_confirmed_or_cancelled(users):
    before_marie, before_sylvie = purchases_of("791234"), purchases_of("797878")
    messages, _ = buy(SYLVIE, "je veux un pass internet 200 mo")
    ok, cancel = quote_payloads(messages)
    forged, _ = confirm(MARIE, ok)
    assert "Je ne trouve pas cette proposition d'achat" in texts(forged)
    cancelled, _ = run(
        ActionCancelPurchase(),
        tracker(MARIE, "cancel_purchase", cancel, entities=[{"entity": "quote", "value": token_of(cancel)}]),
    )
    assert "Je ne trouve pas cette proposition d'achat" in texts(cancelled)
    assert quote_status(token_of(ok)) == QuoteStatus.OPEN
    assert (purchases_of("791234"), purchases_of("797878")) == (before_marie, before_sylvie)


def test_a_token_typed_in_a_sentence_is_never_used(users):
    messages, _ = buy(SYLVIE, "je veux un pass internet 200 mo")
    token = token_of(quote_payloads(messages)[0])
    # Even if the NLU extracted it, a typed message only means "my latest open quote" (none).
    typed, _ = run(
        ActionConfirmPurchase(),
        tracker(MARIE, "confirm_purchase", f"je confirme {token}", entities=[{"entity": "quote", "value": token}]),
    )
    assert "aucun achat en attente" in texts(typed)
    assert quote_status(token) == QuoteStatus.OPEN


def test_forged_line_entities_and_slots_do_not_change_the_line_bought_on(users):
    messages, _ = buy(
        MARIE,
        "recharge 3000",
        entities=[{"entity": "msisdn", "value": "797878"}, {"entity": "phone_number", "value": "797878"}],
        slots={"msisdn": "797878", "line_id": line_id("797878")},
    )
    assert "• Ligne : 79 12 34" in texts(messages) and "79 78 78" not in texts(messages)
    with session_scope() as session:
        quote = session.scalar(select(PurchaseQuote).where(PurchaseQuote.psid == MARIE))
    assert quote.line_id == line_id("791234")


def test_unlinked_user_keeps_the_request_and_gets_it_after_linking(clock):
    consent("psid-new", clock.now)
    messages, events = buy("psid-new", "recharge 3000")
    assert "Pour acheter depuis le chat, je dois d'abord vérifier votre ligne" in texts(messages)
    pending = slots_set(events)["pending_request"]
    assert json.loads(pending[len("/buy") :]) == {"text": "recharge 3000"}
    link_only("psid-new", "791234", clock.now)
    reply = replay.answer_pending("psid-new", pending)
    assert reply.text.startswith("Récapitulatif avant achat") and "Recharge Liberté 3 000" in reply.text


def test_unconsented_buy_gets_the_intro_and_no_quote(clock):
    link_only("psid-new", "791234", clock.now)
    messages, events = buy(
        "psid-new", '/buy{"product_type":"RL"}', entities=[{"entity": "product_type", "value": "RL"}]
    )
    assert chip_payloads(messages) == ["/accept_terms", "/decline_terms", "/switch_language"]
    assert slots_set(events)["pending_request"] == '/buy{"product_type":"RL"}'
    with session_scope() as session:
        assert session.scalar(select(func.count(PurchaseQuote.id))) == 0


def test_confirm_is_gated_but_cancel_is_not(clock):
    link_only("psid-new", "791234", clock.now)
    messages, _ = run(ActionConfirmPurchase(), tracker("psid-new", "confirm_purchase", "je confirme"))
    assert "/accept_terms" in chip_payloads(messages)
    messages, _ = run(ActionCancelPurchase(), tracker("psid-new", "cancel_purchase", "annuler"))
    assert "rien à annuler" in texts(messages)


def test_a_service_error_gives_the_apology(users, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("ledger on fire")

    monkeypatch.setattr(actions_module.purchases, "buy", broken)
    messages, events = buy(MARIE, "recharge 3000")
    assert events == []
    assert "Désolé, je n'arrive pas à traiter votre demande" in texts(messages)
    assert chip_payloads(messages) == ["/buy", "/human"]
    assert "action_buy failed" in caplog.text


# ------------------------------------------------------------------ digressions and the helper


def test_consultation_answer_reminds_the_open_quote(users):
    messages, _ = buy(MARIE, "recharge 3000")
    ok, cancel = quote_payloads(messages)
    balance, _ = run_coroutine(
        lambda d: run_action(ActionShowBalance(), d, tracker(MARIE, "show_balance", "/show_balance"))
    )
    assert "2 340 F" in texts(balance)
    assert "Rappel : votre achat « Recharge Liberté 3 000 » (3 000 F) attend votre confirmation" in texts(balance)
    assert chip_payloads(balance)[:2] == [ok, cancel]
    sylvie, _ = run_coroutine(
        lambda d: run_action(ActionShowBalance(), d, tracker(SYLVIE, "show_balance", "/show_balance"))
    )
    assert "Rappel" not in texts(sylvie)


def test_latest_open_quote_helper(users, clock):
    buy(MARIE, "recharge 1000")
    messages, _ = buy(MARIE, "recharge 3000")
    newest = token_of(quote_payloads(messages)[0])
    buy(SYLVIE, "recharge 1000")
    with session_scope() as session:
        assert purchase_quotes.latest_open_token(session, MARIE, clock.now) == newest
        assert purchase_quotes.latest_open_token(session, MARIE, clock.now + timedelta(minutes=11)) is None
        assert purchase_quotes.latest_open_token(session, "psid-nobody", clock.now) is None
