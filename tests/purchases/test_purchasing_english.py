"""The purchase flow in English for visitors (bot/locale/en/purchasing.po): the same answers, the
same figures, the same payloads; only the words and the formats change, and French stays as it was."""

from __future__ import annotations

from dataclasses import replace

from purchase_helpers import MARIE_FORFAIT, MARIE_LIBERTE, THOMAS_SUSPENDED, payload_entities

from actions.purchases import nothing_pending
from bot.services.fr_format import xpf
from bot.services.i18n import _, speaking
from bot.services.purchasing import purchases, texts
from bot.services.purchasing.purchases import Outcome
from bot.services.replies import BUTTON_TITLE_LIMIT, QUICK_REPLY_TITLE_LIMIT


def english(call):
    with speaking("en"):
        return call()


def test_offers_in_english_then_in_french(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    result = english(lambda: purchases.buy(demo_session, "u1", None, now=clock.now, settings=cfg))
    assert result.outcome == Outcome.OFFERS
    lines = result.reply.text.split("\n")
    assert lines[0] == "Here's what you can buy for line 79 12 34:"
    assert "• Recharge Liberté top-ups: by bank card (secure payment page)" in lines
    assert any(line.startswith("• Internet on demand passes (IMD): deducted from your credit (") for line in lines)
    assert lines[-1] == "Choose a product: I'll show you a summary before any payment."
    assert {b.title for c in result.reply.cards for b in c.buttons} == {"Choose"}
    assert any(c.subtitle.startswith("1,000 XPF · 1 GB, ") and c.subtitle.endswith(" days") for c in result.reply.cards)

    french = purchases.buy(demo_session, "u1", None, now=clock.now, settings=cfg)
    assert french.reply.text.startswith("Voici ce que vous pouvez acheter pour la ligne 79 12 34 :")
    assert {b.title for c in french.reply.cards for b in c.buttons} == {"Choisir"}
    assert [c.buttons[0].payload for c in french.reply.cards] == [c.buttons[0].payload for c in result.reply.cards]


def test_summary_confirm_and_receipt_in_english(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    summary = english(lambda: purchases.choose_product(demo_session, "u1", "IMD_1GO", now=clock.now, settings=cfg))
    assert summary.outcome == Outcome.QUOTED
    for part in (
        "Summary before purchase:",
        "• Price: 1,000 XPF",
        "• Line: 79 12 34",
        "• Payment: deducted from your credit",
        "• Credit after purchase: 1,340 XPF (now 2,340 XPF)",
        "valid until 22 Mar 2026",
        "Do you confirm? Without an answer, this quote expires in 10 min (",
    ):
        assert part in summary.reply.text
    assert [q.title for q in summary.reply.quick_replies] == ["Confirm", "Cancel"]
    assert payload_entities(summary.reply.quick_replies[0].payload) == {"quote": summary.quote_token}

    receipt = english(
        lambda: purchases.confirm_purchase(demo_session, "u1", summary.quote_token, now=clock.now, settings=cfg)
    )
    assert receipt.outcome == Outcome.SUCCEEDED
    assert receipt.reply.text.startswith("Done, thank you! Here is your receipt.\n• Reference: MOB-")
    assert "• Price: 1,000 XPF (credit)" in receipt.reply.text
    assert "• Remaining credit: 1,340 XPF" in receipt.reply.text

    again = purchases.confirm_purchase(demo_session, "u1", summary.quote_token, now=clock.now, settings=cfg)
    assert again.duplicate and again.reply.text.startswith("Cet achat est déjà fait, voici son reçu.")
    assert "• Prix : 1 000 F (crédit)" in again.reply.text


def test_card_payment_link_in_english(demo_session, linked, clock, cfg):
    linked("u1", MARIE_LIBERTE)
    token = purchases.choose_product(demo_session, "u1", "RL_3000", now=clock.now, settings=cfg).quote_token
    result = english(lambda: purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=cfg))
    assert result.outcome == Outcome.PAYMENT_PENDING
    assert result.reply.text.startswith("To pay 3,000 XPF (")
    assert "by bank card, open the secure payment page (link valid for " in result.reply.text
    assert [b.title for b in result.reply.buttons] == ["Pay 3,000 XPF"]
    assert [q.title for q in result.reply.quick_replies] == ["Cancel"]


def test_cancel_and_refusals_in_english(demo_session, linked, clock, cfg):
    linked("u1", MARIE_FORFAIT)
    token = purchases.choose_product(demo_session, "u1", "TOPUP_1GO", now=clock.now, settings=cfg).quote_token
    cancelled = english(lambda: purchases.cancel_purchase(demo_session, "u1", token, now=clock.now, settings=cfg))
    assert cancelled.outcome == Outcome.CANCELLED
    assert cancelled.reply.text == "Cancelled. Nothing was bought or charged."

    linked("u2", THOMAS_SUSPENDED)
    suspended = english(lambda: purchases.buy(demo_session, "u2", None, now=clock.now, settings=cfg))
    assert suspended.reply.text.startswith("Your line is suspended: no purchase is possible.")
    assert "call 1000 (free from a Mobilis line) or write to 1000@opt.nc" in suspended.reply.text

    not_linked = english(lambda: purchases.buy(demo_session, "nobody", None, now=clock.now, settings=cfg))
    assert not_linked.reply.text.startswith("To buy from the chat, first link your Mobilis line")
    assert not_linked.reply.quick_replies[0].title == "Link my line"

    one = replace(cfg, daily_count=1)
    token = purchases.choose_product(demo_session, "u1", "TOPUP_1GO", now=clock.now, settings=one).quote_token
    purchases.confirm_purchase(demo_session, "u1", token, now=clock.now, settings=one)
    refused = english(lambda: purchases.choose_product(demo_session, "u1", "TOPUP_1GO", now=clock.now, settings=one))
    assert refused.outcome == Outcome.LIMIT_COUNT
    assert refused.reply.text.startswith("You've reached the limit of 1 purchase per day on this line.")
    french = purchases.choose_product(demo_session, "u1", "TOPUP_1GO", now=clock.now, settings=one)
    assert french.reply.text.startswith("Vous avez atteint la limite de 1 achat par jour sur cette ligne.")


def test_texts_and_plurals_in_english_and_unchanged_in_french():
    assert english(lambda: texts.limit_count_text(3)).startswith("You've reached the limit of 3 purchases per day")
    assert texts.limit_count_text(3).startswith("Vous avez atteint la limite de 3 achats par jour")
    assert english(lambda: texts.failed_payment_text("declined", 3000)) == (
        "The payment of 3,000 XPF was declined by the bank. Nothing was charged and your line hasn't changed. "
        "You can try again (with another card, for example) or top up at a point of sale."
    )
    assert texts.failed_payment_text("declined", 3000) == (
        "Le paiement de 3 000 F a été refusé par la banque. Rien n'a été débité et votre ligne n'a pas changé. "
        "Vous pouvez réessayer (une autre carte, par exemple) ou recharger en point de vente."
    )
    assert english(lambda: texts.until_fr(None)) == "with no end date"
    assert english(lambda: nothing_pending(True).text) == (
        "There's no pending purchase: nothing to cancel. Nothing was bought or charged."
    )
    assert nothing_pending(True).text == (
        "Il n'y a aucun achat en attente : rien à annuler. Rien n'a été acheté ni débité."
    )


def test_english_chip_and_button_titles_fit_messenger():
    titles = ["Choisir", "Confirmer", "Annuler", "Réessayer", "Recommencer", "Relier ma ligne", "Voir les achats"]
    with speaking("en"):
        for title in titles:
            assert _(title) != title and len(_(title)) <= min(QUICK_REPLY_TITLE_LIMIT, BUTTON_TITLE_LIMIT)
        for amount in (500, 10000, 99999):
            assert len(_("Payer {amount}").format(amount=xpf(amount))) <= BUTTON_TITLE_LIMIT
            assert len(_("Recharger {amount}").format(amount=xpf(amount))) <= QUICK_REPLY_TITLE_LIMIT
