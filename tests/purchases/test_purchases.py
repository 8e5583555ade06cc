"""The purchase flow (bot/services/purchasing/purchases.py): summary, confirm, cancel, expiry, limits,
insufficient credit, ownership of quotes, receipts and history."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from purchase_helpers import (
    JEAN_EXPIRED,
    MARIE_FORFAIT,
    MARIE_LIBERTE,
    SYLVIE,
    THOMAS_SUSPENDED,
    assistant_purchases,
    credit,
    data_buckets,
    payload_entities,
)
from sqlalchemy import func, select, update

from bot.db.purchasing import PaymentSession, PaymentSource, ProductType, PurchaseQuote, PurchaseStatus, QuoteStatus
from bot.services.account.history import purchases_reply
from bot.services.purchasing import purchases
from bot.services.purchasing.ledger import daily_usage
from bot.services.purchasing.payments import PaymentProviderError
from bot.services.purchasing.purchases import Outcome


def quote(session, psid, code, clock, cfg):
    result = purchases.choose_product(session, psid, code, now=clock.now, settings=cfg)
    assert result.outcome == Outcome.QUOTED, result.reply.text
    return result


def test_summary_shows_product_price_line_source_balance_after_and_validity(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    result = quote(demo_session, "u1", "IMD_1GO", clock, cfg)
    text = result.reply.text
    for part in (
        "Pass Internet 1 Go",
        "Prix : 1 000 F",
        "Ligne : 79 12 34",
        "déduit de votre crédit",
        "Crédit après achat : 1 340 F",
        "valable jusqu'au 22/03/2026",
        "expire dans 10 minutes",
    ):
        assert part in text
    titles = [q.title for q in result.reply.quick_replies]
    assert titles == ["Confirmer", "Annuler"]
    assert payload_entities(result.reply.quick_replies[0].payload) == {"quote": result.quote_token}
    assert result.reply.quick_replies[0].payload.startswith("/confirm_purchase{")
    assert result.reply.quick_replies[1].payload.startswith("/cancel_purchase{")


def test_showing_a_summary_charges_nothing(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_LIBERTE)
    before = credit(demo_session, line)
    quote(demo_session, "u1", "IMD_1GO", clock, cfg)
    assert credit(demo_session, line) == before and assistant_purchases(demo_session, line) == []


def test_recharge_summary_projects_credit_sms_and_extended_validity(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    text = quote(demo_session, "u1", "RL_3000", clock, cfg).reply.text
    assert "Crédit après recharge : 5 490 F, valable jusqu'au 12/08/2026" in text  # 2 340 + 3 150, 150 days
    assert "SMS après recharge : 94" in text and "carte bancaire" in text


def test_recharge_on_expired_credit_says_it_is_revived(demo_session, linked, clock, cfg):
    linked("u1", JEAN_EXPIRED)
    text = quote(demo_session, "u1", "RL_1000", clock, cfg).reply.text
    assert "1 370 F (dont 320 F de crédit expiré réactivé)" in text


def test_buy_with_an_amount_goes_straight_to_the_summary(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    result = purchases.buy(demo_session, "u1", "recharge 3 000 F", now=clock.now, settings=cfg)
    assert result.outcome == Outcome.QUOTED and "Recharge Liberté 3 000" in result.reply.text


def test_buy_with_an_impossible_amount_explains_and_offers_the_valid_ones(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    result = purchases.buy(demo_session, "u1", "recharge de 7 F", now=clock.now, settings=cfg)
    assert result.outcome == Outcome.NOT_ELIGIBLE and result.quote_token is None
    assert "Il n'existe pas de recharge à 7 F" in result.reply.text
    assert "1 000 F, 3 000 F, 5 000 F" in result.reply.text
    assert [c.title for c in result.reply.cards] == [
        "Recharge Liberté 1 000",
        "Recharge Liberté 3 000",
        "Recharge Liberté 5 000",
    ]
    assert payload_entities(result.reply.cards[0].buttons[0].payload) == {"product": "RL_1000"}
    assert demo_session.scalar(select(func.count(PurchaseQuote.id))) == 0


def test_buy_without_details_lists_cards_with_price_volume_validity(demo_session, linked, clock, cfg):
    linked("u1", MARIE_FORFAIT)
    result = purchases.buy(demo_session, "u1", None, now=clock.now, settings=cfg)
    assert result.outcome == Outcome.OFFERS
    assert next((c.title, c.subtitle) for c in result.reply.cards) == (
        "TOP UP 1 Go",
        "1 000 F · 1 Go, jusqu'à la fin de la période",
    )
    assert "ajouté à votre prochaine facture" in result.reply.text


def test_buy_filtered_by_type_entity(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    result = purchases.buy(demo_session, "u1", product_type="imd", now=clock.now, settings=cfg)
    assert {c.title for c in result.reply.cards} == {"Pass Internet 200 Mo", "Pass Internet 1 Go", "Pass Internet 5 Go"}


def test_confirm_imd_debits_credit_adds_data_and_shows_a_receipt(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_LIBERTE)
    token = quote(demo_session, "u1", "IMD_1GO", clock, cfg).quote_token
    result = purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    assert result.outcome == Outcome.SUCCEEDED and not result.duplicate
    assert credit(demo_session, line) == 2340 - 1000
    assert [b.remaining for b in data_buckets(demo_session, line, "Pass Internet 1 Go")] == [612, 1024]
    text = result.reply.text
    assert result.reference.startswith("MOB-260315-") and result.reference in text
    for part in ("Pass Internet 1 Go", "1 000 F (crédit)", "Crédit restant : 1 340 F", "jusqu'au 22/03/2026"):
        assert part in text
    [purchase] = assistant_purchases(demo_session, line)
    assert (purchase.status, purchase.payment_source, purchase.price_xpf) == (
        PurchaseStatus.SUCCEEDED,
        PaymentSource.CREDIT,
        1000,
    )
    assert purchase.idempotency_key == f"quote:{token}"


def test_the_purchase_appears_in_the_history(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_LIBERTE)
    token = quote(demo_session, "u1", "IMD_200MO", clock, cfg).quote_token
    purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    history = purchases_reply(demo_session, line, clock.now + timedelta(minutes=1))
    assert history.cards[0].title == "Pass Internet 200 Mo" and "300 F · crédit · réussi" in history.cards[0].subtitle


def test_confirm_topup_bills_and_adds_data_until_the_end_of_the_period(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_FORFAIT)
    token = quote(demo_session, "u1", "TOPUP_5GO", clock, cfg).quote_token
    result = purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    assert result.outcome == Outcome.SUCCEEDED
    assert "3 000 F seront ajoutés à votre prochaine facture" in result.reply.text
    [bucket] = data_buckets(demo_session, line, "TOP UP 5 Go")
    assert bucket.remaining == 5120 and bucket.valid_until.isoformat() == "2026-04-02T12:59:59+00:00"
    [purchase] = assistant_purchases(demo_session, line)
    assert purchase.payment_source == PaymentSource.BILL and purchase.product_type == ProductType.TOPUP


def test_confirm_twice_gives_one_purchase_and_one_debit(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_LIBERTE)
    token = quote(demo_session, "u1", "IMD_1GO", clock, cfg).quote_token
    first = purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    second = purchases.confirm_purchase(demo_session, "u1", token, now=clock.advance(seconds=2), settings=cfg)
    assert (first.outcome, second.outcome) == (Outcome.SUCCEEDED, Outcome.SUCCEEDED)
    assert second.duplicate and second.reference == first.reference
    assert "déjà fait" in second.reply.text
    assert len(assistant_purchases(demo_session, line)) == 1
    assert credit(demo_session, line) == 1340
    assert len(data_buckets(demo_session, line, "Pass Internet 1 Go")) == 2  # the demo one + ours


def test_card_confirm_gives_a_payment_link_and_charges_nothing_yet(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_LIBERTE)
    token = quote(demo_session, "u1", "RL_3000", clock, cfg).quote_token
    result = purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    assert result.outcome == Outcome.PAYMENT_PENDING
    [button] = result.reply.buttons
    assert button.url == result.payment_url and button.url.startswith("http://127.0.0.1:8080/payments/pay/")
    assert button.title == "Payer 3 000 F"
    assert credit(demo_session, line) == 2340
    [purchase] = assistant_purchases(demo_session, line)
    assert purchase.status == PurchaseStatus.PENDING and purchase.payment_source == PaymentSource.CARD
    again = purchases.confirm_purchase(demo_session, "u1", token, now=clock.advance(seconds=5), settings=cfg)
    assert again.duplicate and again.payment_url == result.payment_url
    assert demo_session.scalar(select(func.count(PaymentSession.id))) == 1


def test_card_payments_unconfigured_are_refused_before_anything(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    result = purchases.choose_product(
        demo_session, "u1", "RL_1000", now=clock.now, settings=replace(cfg, payment_secret="")
    )
    assert result.outcome == Outcome.CARD_UNAVAILABLE and "Rien n'a été acheté ni débité" in result.reply.text


def test_insufficient_credit_is_refused_with_the_shortfall_and_a_recharge(demo_session, linked, clock, cfg):
    line = linked("u1", SYLVIE)  # 780 F
    result = purchases.choose_product(demo_session, "u1", "IMD_5GO", now=clock.now, settings=cfg)
    assert result.outcome == Outcome.INSUFFICIENT_CREDIT and result.shortfall == 2220
    assert "il manque 2 220 F" in result.reply.text and "Rien n'a été acheté ni débité" in result.reply.text
    recharge = [q for q in result.reply.quick_replies if q.title.startswith("Recharger")]
    assert recharge and payload_entities(recharge[0].payload) == {"product": "RL_3000"}  # covers the shortfall
    assert credit(demo_session, line) == 780 and assistant_purchases(demo_session, line) == []


def test_confirm_refuses_when_credit_fell_short_and_keeps_the_quote_open(demo_session, linked, clock, cfg):
    """Three summaries made while 2 340 F sufficed for each: the third confirmation finds 340 F."""
    line = linked("u1", MARIE_LIBERTE)
    linked("u2", MARIE_LIBERTE)  # the same line from other Messenger accounts
    linked("u3", MARIE_LIBERTE)
    tokens = {psid: quote(demo_session, psid, "IMD_1GO", clock, cfg).quote_token for psid in ("u1", "u2", "u3")}
    for psid in ("u2", "u3"):
        assert (
            purchases.confirm_purchase(demo_session, psid, tokens[psid], now=clock.now, settings=cfg).outcome
            == Outcome.SUCCEEDED
        )
    result = purchases.confirm_purchase(demo_session, "u1", tokens["u1"], now=clock.now, settings=cfg)
    assert result.outcome == Outcome.INSUFFICIENT_CREDIT and result.shortfall == 660
    assert "il manque 660 F" in result.reply.text
    assert "Confirmer" in [q.title for q in result.reply.quick_replies]
    assert credit(demo_session, line) == 340 and len(assistant_purchases(demo_session, line)) == 2
    assert (
        demo_session.scalar(select(PurchaseQuote.status).where(PurchaseQuote.token == tokens["u1"])) == QuoteStatus.OPEN
    )


def test_daily_count_limit(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_FORFAIT)
    cfg = replace(cfg, daily_count=2)
    for _ in range(2):
        token = quote(demo_session, "u1", "TOPUP_1GO", clock, cfg).quote_token
        assert (
            purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg).outcome
            == Outcome.SUCCEEDED
        )
    refused = purchases.choose_product(demo_session, "u1", "TOPUP_1GO", now=clock.now, settings=cfg)
    assert refused.outcome == Outcome.LIMIT_COUNT and "limite de 2 achats par jour" in refused.reply.text
    # Tomorrow (Nouméa midnight) the count starts again.
    tomorrow = clock.now + timedelta(days=1)
    assert (
        purchases.choose_product(demo_session, "u1", "TOPUP_1GO", now=tomorrow, settings=cfg).outcome == Outcome.QUOTED
    )
    assert len(assistant_purchases(demo_session, line)) == 2


def test_daily_amount_limit_is_checked_again_at_confirm(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_FORFAIT)
    cfg = replace(cfg, daily_xpf=7000)
    linked("u2", MARIE_FORFAIT)
    a = quote(demo_session, "u1", "TOPUP_20GO", clock, cfg).quote_token  # 6 000 F
    b = quote(demo_session, "u2", "TOPUP_1GO", clock, cfg).quote_token  # 1 000 F
    c_refused = purchases.choose_product(
        demo_session, "u1", "TOPUP_20GO", now=clock.now, settings=replace(cfg, daily_xpf=5000)
    )
    assert c_refused.outcome == Outcome.LIMIT_AMOUNT and "limite de 5 000 F" in c_refused.reply.text
    assert purchases.confirm_purchase(demo_session, "u2", b, now=clock.now, settings=cfg).outcome == Outcome.SUCCEEDED
    a = quote(demo_session, "u1", "TOPUP_20GO", clock, cfg)  # 1 000 + 6 000 = 7 000: still allowed
    assert a.outcome == Outcome.QUOTED
    linked("u3", MARIE_FORFAIT)
    d = quote(demo_session, "u3", "TOPUP_1GO", clock, cfg).quote_token
    assert (
        purchases.confirm_purchase(demo_session, "u1", a.quote_token, now=clock.now, settings=cfg).outcome
        == Outcome.SUCCEEDED
    )
    late = purchases.confirm_purchase(demo_session, "u3", d, now=clock.now, settings=cfg)
    assert late.outcome == Outcome.LIMIT_AMOUNT and "déjà 7 000 F aujourd'hui" in late.reply.text
    assert sum(p.price_xpf for p in assistant_purchases(demo_session, line)) == 7000


def test_a_quote_expires_and_then_does_nothing(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_LIBERTE)
    token = quote(demo_session, "u1", "IMD_1GO", clock, cfg).quote_token
    clock.advance(minutes=10)
    result = purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    assert result.outcome == Outcome.EXPIRED and "Rien n'a été acheté ni débité" in result.reply.text
    assert payload_entities(result.reply.quick_replies[0].payload) == {"product": "IMD_1GO"}
    assert credit(demo_session, line) == 2340 and assistant_purchases(demo_session, line) == []
    assert demo_session.scalar(select(PurchaseQuote.status)) == QuoteStatus.EXPIRED


def test_quote_lifetime_is_configurable(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    cfg = replace(cfg, quote_ttl=timedelta(minutes=2))
    result = quote(demo_session, "u1", "IMD_1GO", clock, cfg)
    assert "expire dans 2 minutes" in result.reply.text
    clock.advance(minutes=1, seconds=59)
    assert (
        purchases.confirm_purchase(demo_session, "u1", result.quote_token, now=clock.now, settings=cfg).outcome
        == Outcome.SUCCEEDED
    )


def test_expire_stale_housekeeping(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    quote(demo_session, "u1", "IMD_1GO", clock, cfg)
    assert purchases.expire_stale(demo_session, clock.now + timedelta(minutes=9)) == 0
    assert purchases.expire_stale(demo_session, clock.now + timedelta(minutes=11)) == 1


def test_cancel_before_confirm(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_LIBERTE)
    token = quote(demo_session, "u1", "IMD_1GO", clock, cfg).quote_token
    cancelled = purchases.cancel_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    assert cancelled.outcome == Outcome.CANCELLED and "Rien n'a été acheté ni débité" in cancelled.reply.text
    after = purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    assert after.outcome == Outcome.CANCELLED
    assert credit(demo_session, line) == 2340 and assistant_purchases(demo_session, line) == []


def test_cancel_after_success_is_not_an_undo(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_LIBERTE)
    token = quote(demo_session, "u1", "IMD_1GO", clock, cfg).quote_token
    purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    result = purchases.cancel_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    assert result.outcome == Outcome.ALREADY_DONE and "1000" in result.reply.text
    assert credit(demo_session, line) == 1340


def test_cancel_an_unpaid_card_payment(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_LIBERTE)
    token = quote(demo_session, "u1", "RL_1000", clock, cfg).quote_token
    purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    result = purchases.cancel_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    assert result.outcome == Outcome.CANCELLED
    [purchase] = assistant_purchases(demo_session, line)
    assert purchase.status == PurchaseStatus.CANCELLED and credit(demo_session, line) == 2340


class ProviderPort:
    """cancel_session recorded, or refused (`fail=True`) like a provider that cannot be reached."""

    def __init__(self, fail: bool = False):
        self.fail, self.cancelled = fail, []

    def cancel_session(self, provider_ref):
        if self.fail:
            raise PaymentProviderError("unreachable (test)")
        self.cancelled.append(provider_ref)


def test_a_payment_still_payable_at_the_provider_counts_towards_the_limits(demo_session, linked, clock, cfg):
    """Cancel in the chat after opening the payment page: the count is freed only once the
    provider has closed the session (else: confirm, open, cancel, pay later, again and again)."""
    line = linked("u1", MARIE_LIBERTE)
    token = quote(demo_session, "u1", "RL_1000", clock, cfg).quote_token
    confirmed = purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    demo_session.execute(
        update(PaymentSession).where(PaymentSession.purchase_id == confirmed.purchase_id).values(provider_ref="prov-42")
    )  # the user opened the payment page
    demo_session.commit()
    used = daily_usage(demo_session, line, clock.now)
    refused = purchases.cancel_purchase(
        demo_session, "u1", token, now=clock.now, settings=cfg, provider=ProviderPort(fail=True)
    )
    assert refused.outcome == Outcome.PAYMENT_PENDING and "rien n'est débité" in refused.reply.text
    assert daily_usage(demo_session, line, clock.now) == used  # still payable: still counted
    port = ProviderPort()
    result = purchases.cancel_purchase(demo_session, "u1", token, now=clock.now, settings=cfg, provider=port)
    assert result.outcome == Outcome.CANCELLED and port.cancelled == ["prov-42"]
    assert daily_usage(demo_session, line, clock.now).count == used.count - 1


def test_a_new_summary_supersedes_the_previous_one(demo_session, linked, clock, cfg):
    line = linked("u1", MARIE_LIBERTE)
    old = quote(demo_session, "u1", "IMD_1GO", clock, cfg).quote_token
    quote(demo_session, "u1", "IMD_200MO", clock, cfg)
    result = purchases.confirm_purchase(demo_session, "u1", old, now=clock.now, settings=cfg)
    assert result.outcome == Outcome.SUPERSEDED and credit(demo_session, line) == 2340


def test_a_quote_of_another_psid_is_refused(demo_session, linked, clock, cfg):
    line = linked("alice", MARIE_LIBERTE)
    linked("mallory", SYLVIE)
    token = quote(demo_session, "alice", "IMD_1GO", clock, cfg).quote_token
    for psid in ("mallory", "nobody"):
        result = purchases.confirm_purchase(demo_session, psid, token, now=clock.now, settings=cfg)
        assert result.outcome in (Outcome.NOT_FOUND, Outcome.NOT_LINKED)
        assert purchases.cancel_purchase(demo_session, psid, token, now=clock.now, settings=cfg).outcome in (
            Outcome.NOT_FOUND,
            Outcome.NOT_LINKED,
        )
    assert credit(demo_session, line) == 2340
    # Alice's quote is untouched by the attempts and still works for her.
    assert (
        purchases.confirm_purchase(demo_session, "alice", token, now=clock.now, settings=cfg).outcome
        == Outcome.SUCCEEDED
    )


def test_a_quote_for_a_line_the_psid_left_is_refused(demo_session, linked, clock, cfg):
    first = linked("u1", MARIE_LIBERTE)
    token = quote(demo_session, "u1", "IMD_1GO", clock, cfg).quote_token
    linked("u1", MARIE_FORFAIT)  # switched line since the summary
    result = purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg)
    assert result.outcome == Outcome.NOT_FOUND and credit(demo_session, first) == 2340


def test_garbage_tokens_are_refused(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    for token in (None, "", "x" * 500, {"quote": 1}):
        assert (
            purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg).outcome
            == Outcome.NOT_FOUND
        )


def test_not_linked_and_suspended(demo_session, linked, clock, cfg):
    result = purchases.buy(demo_session, "stranger", "recharge 1000", now=clock.now, settings=cfg)
    assert result.outcome == Outcome.NOT_LINKED and result.reply.quick_replies[0].payload == "/link_line"
    linked("u9", THOMAS_SUSPENDED)
    result = purchases.buy(demo_session, "u9", "top up 1 go", now=clock.now, settings=cfg)
    assert result.outcome == Outcome.LINE_SUSPENDED and "suspendue" in result.reply.text


def test_a_product_not_allowed_for_the_plan_is_refused_even_by_payload(demo_session, linked, clock, cfg):
    linked("u1", MARIE_FORFAIT)
    result = purchases.choose_product(demo_session, "u1", "IMD_5GO", now=clock.now, settings=cfg)
    assert result.outcome == Outcome.NOT_ELIGIBLE and result.quote_token is None
    assert {c.title for c in result.reply.cards} == {"TOP UP 1 Go", "TOP UP 5 Go", "TOP UP 20 Go"}


def test_replies_stay_within_messenger_limits(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    results = [
        purchases.buy(demo_session, "u1", None, now=clock.now, settings=cfg),
        quote(demo_session, "u1", "RL_5000", clock, cfg),
    ]
    results.append(purchases.confirm_purchase(demo_session, "u1", results[1].quote_token, now=clock.now, settings=cfg))
    for r in results:
        assert len(r.reply.text) <= 2000 and len(r.reply.quick_replies) <= 13 and len(r.reply.cards) <= 10
        assert all(len(q.title) <= 20 and len(q.payload) <= 1000 for q in r.reply.quick_replies)
        assert all(len(b.title) <= 20 for b in r.reply.buttons)
        assert all(len(c.title) <= 80 and len(c.subtitle) <= 80 for c in r.reply.cards)
