"""French answers of the purchase flow: product cards, summary, receipt, refusals.

Pure functions of already-loaded rows and figures (no queries), so wording can change without
touching the money code. Payloads are Rasa intent messages (nlu/domain.yml):
`/choose_product{"product":"RL_3000"}`, `/confirm_purchase{"quote":"<token>"}`,
`/cancel_purchase{"quote":"<token>"}`, `/buy{"product_type":"RL"}`.
"""

from __future__ import annotations

from datetime import datetime

from bot.db.account import Line
from bot.db.purchasing import PaymentSource, Product, ProductType
from bot.services.dialogue.context import Question, QuestionKind
from bot.services.dialogue.payloads import payload
from bot.services.dialogue.quantities import ProductAsk
from bot.services.fr_format import data_volume, date_fr, datetime_fr, family_fr, msisdn_fr, plural, to_noumea, xpf
from bot.services.purchasing.ledger import Projection
from bot.services.purchasing.offers import Offer
from bot.services.replies import QR_BALANCE, QR_HELP, QR_PURCHASES, Button, Card, QuickReply, Reply, fit

TYPE_PLURALS = {
    ProductType.RL: "Recharges Liberté",
    ProductType.IMD: "Pass Internet à la demande (IMD)",
    ProductType.TOPUP: "TOP UP (Internet en plus)",
}
TYPE_SINGULAR = {ProductType.RL: "recharge", ProductType.IMD: "pass Internet", ProductType.TOPUP: "TOP UP"}
SOURCE_TEXT = {
    PaymentSource.CARD: "par carte bancaire (page de paiement sécurisée)",
    PaymentSource.CREDIT: "déduit de votre crédit",
    PaymentSource.BILL: "ajouté à votre prochaine facture",
}
SOURCE_SHORT = {PaymentSource.CARD: "carte bancaire", PaymentSource.CREDIT: "crédit", PaymentSource.BILL: "sur facture"}
NOTHING_CHARGED = "Rien n'a été acheté ni débité."
SAMPLE_NOTE = "(Tarif d'exemple, à confirmer par l'OPT.)"


def choose_payload(code: str) -> str:
    return payload("choose_product", {"product": code})


def confirm_payload(token: str) -> str:
    return payload("confirm_purchase", {"quote": token})


def cancel_payload(token: str) -> str:
    return payload("cancel_purchase", {"quote": token})


def buy_payload(product_type: ProductType | None = None) -> str:
    return payload("buy", {"product_type": product_type.value if product_type else None})


QR_BUY_AGAIN = QuickReply("Voir les achats", buy_payload())


def until_fr(moment: datetime | None) -> str:
    """Whole-day validities end at 23:59:59 in Nouméa: show the date only; otherwise the hour too."""
    if moment is None:
        return "sans date limite"
    local = to_noumea(moment)
    return (
        f"jusqu'au {date_fr(moment)}" if (local.hour, local.minute) == (23, 59) else f"jusqu'au {datetime_fr(moment)}"
    )


def contents(product: Product) -> str:
    """'1 050 F de crédit + 10 SMS, 120 jours' / '1 Go, 7 jours'."""
    parts = []
    if product.credit_xpf:
        parts.append(f"{xpf(product.credit_xpf)} de crédit")
    if product.sms:
        parts.append(f"{product.sms} SMS")
    if product.data_mb:
        parts.append(data_volume(product.data_mb))
    text = " + ".join(parts) or product.name
    if product.type == ProductType.TOPUP:
        return f"{text}, jusqu'à la fin de la période"
    if product.validity_days:
        return f"{text}, {plural(product.validity_days, 'jour')}"
    return text


# ------------------------------------------------------------------------------ choosing


def product_card(product: Product) -> Card:
    subtitle = f"{xpf(product.price_xpf)} · {contents(product)}"
    return Card(
        title=product.name, subtitle=subtitle, buttons=(Button("Choisir", payload=choose_payload(product.code)),)
    )


def offers_reply(line: Line, offers: list[Offer], intro: str | None = None, credit: int | None = None) -> Reply:
    """Product cards (≤ 10) with a short reminder of how each type is paid."""
    head = intro or f"Voici ce que vous pouvez acheter pour la ligne {msisdn_fr(line.msisdn)} :"
    lines = [head]
    seen = []
    for offer in offers:
        if offer.product.type not in seen:
            seen.append(offer.product.type)
            how = SOURCE_TEXT[offer.payment_source]
            if offer.payment_source == PaymentSource.CREDIT and credit is not None:
                how += f" ({xpf(credit)} disponibles)"
            lines.append(f"• {TYPE_PLURALS[offer.product.type]} : {how}")
    lines.append("Choisissez un produit : je vous montrerai un récapitulatif avant tout paiement.")
    return fit(
        Reply(
            "\n".join(lines),
            quick_replies=[QR_BALANCE, QR_HELP],
            cards=[product_card(o.product) for o in offers],
            asks=product_question([o.product for o in offers]),
        )
    )


def product_question(products: list[Product]) -> Question:
    """ "Which one?": a typed price, volume, name or "le deuxième" picks among these products."""
    return Question(
        QuestionKind.PRODUCT_CHOICE,
        {
            "options": [
                {
                    "code": p.code,
                    "type": p.type.value,
                    "price": p.price_xpf,
                    "credit": p.credit_xpf,
                    "data_mb": p.data_mb,
                    "title": p.name,
                }
                for p in products[:10]
            ]
        },
    )


def confirmation_question(product: Product, price: int, token: str) -> Question:
    """ "Confirmez-vous ?": the quote, and the figures a "oui, les 3000" may restate."""
    return Question(
        QuestionKind.PURCHASE_CONFIRMATION,
        {"quote": token, "price": price, "credit": product.credit_xpf, "data_mb": product.data_mb},
    )


def nothing_to_buy_reply(line: Line) -> Reply:
    return fit(
        Reply(
            f"Aucun achat n'est proposé dans le chat pour votre {family_fr(line.plan_family)}. "
            "Le service client (1000) ou une agence OPT peuvent vous renseigner.",
            quick_replies=[QR_HELP],
        )
    )


def impossible_intro(problem: str, request: ProductAsk, line: Line, offers: list[Offer]) -> str:
    """Why the message cannot be met, then what can."""
    if problem == "type":
        wanted = TYPE_PLURALS[ProductType(request.kind)]
        return (
            f"Les {wanted} ne sont pas proposés pour votre {family_fr(line.plan_family)}. "
            "Voici ce que vous pouvez acheter :"
        )
    if problem == "data":
        return (
            f"Aucun pass Internet n'est proposé pour votre {family_fr(line.plan_family)}. "
            "Voici ce que vous pouvez acheter :"
        )
    kind = TYPE_SINGULAR[offers[0].product.type] if len({o.product.type for o in offers}) == 1 else "achat"
    if problem == "volume" and request.data_mb is not None:
        volumes = ", ".join(data_volume(v) for v in sorted({o.product.data_mb for o in offers if o.product.data_mb}))
        return (
            f"Je n'ai pas de {kind} de {data_volume(request.data_mb)} pour votre ligne."
            + (f" Volumes possibles : {volumes}." if volumes else "")
            + " Choisissez ci-dessous :"
        )
    prices = ", ".join(xpf(p) for p in sorted({o.product.price_xpf for o in offers}))
    asked = f" à {xpf(request.amount_xpf)}" if request.amount_xpf is not None else ""
    return f"Il n'existe pas de {kind}{asked}. Montants possibles : {prices}. Choisissez ci-dessous :"


# ------------------------------------------------------------------------------- summary


def summary_reply(
    line: Line,
    product: Product,
    price: int,
    source: PaymentSource,
    projection: Projection,
    token: str,
    expires_at: datetime,
    ttl_minutes: int,
) -> Reply:
    lines = [
        "Récapitulatif avant achat :",
        f"• Produit : {product.name} ({contents(product)})",
        f"• Prix : {xpf(price)}",
        f"• Ligne : {msisdn_fr(line.msisdn)}",
        f"• Paiement : {SOURCE_TEXT[source]}",
    ]
    lines += [f"• {text}" for text in after_lines(product, source, projection)]
    if product.is_sample:
        lines.append(SAMPLE_NOTE)
    if source == PaymentSource.CARD:
        lines.append(
            "Après « Confirmer », je vous envoie le lien de paiement ; votre ligne est créditée dès que "
            "la banque confirme le paiement."
        )
    lines.append(
        f"Confirmez-vous ? Sans réponse, cette proposition expire dans {ttl_minutes} minutes "
        f"({to_noumea(expires_at).strftime('%H:%M')}) et rien ne sera fait."
    )
    return fit(
        Reply(
            "\n".join(lines),
            quick_replies=[
                QuickReply("Confirmer", confirm_payload(token)),
                QuickReply("Annuler", cancel_payload(token)),
            ],
            asks=confirmation_question(product, price, token),
        )
    )


def open_quote_reply(product: Product, price: int, token: str, expires_at: datetime, unclear: bool) -> Reply:
    lead = "Je n'ai pas bien compris votre réponse. Votre achat" if unclear else "Rappel : votre achat"
    return fit(
        Reply(
            text=(
                f"{lead} « {product.name} » ({xpf(price)}) attend votre confirmation : touchez « Confirmer » pour "
                f"l'acheter, ou « Annuler ». Sans réponse, il sera annulé à {to_noumea(expires_at):%H:%M}."
            ),
            quick_replies=[
                QuickReply("Confirmer", confirm_payload(token)),
                QuickReply("Annuler", cancel_payload(token)),
            ],
            asks=confirmation_question(product, price, token),
        )
    )


def _projected_xpf(amount: int | None) -> str:
    """An amount the projection must hold for this product and payment (see ledger.project)."""
    if amount is None:
        raise ValueError("the projection has no credit for a credit-paid product or a recharge")
    return xpf(amount)


def after_lines(product: Product, source: PaymentSource, p: Projection) -> list[str]:
    out = []
    if product.type == ProductType.RL:
        revived = f" (dont {xpf(p.credit_revived)} de crédit expiré réactivé)" if p.credit_revived else ""
        credit = _projected_xpf(p.credit_after)
        out.append(f"Crédit après recharge : {credit}{revived}, valable {until_fr(p.credit_valid_until)}")
        if p.sms_after is not None:
            out.append(f"SMS après recharge : {p.sms_after}")
        return out
    if source == PaymentSource.CREDIT:
        out.append(
            f"Crédit après achat : {_projected_xpf(p.credit_after)} (aujourd'hui {_projected_xpf(p.credit_now)})"
        )
    out.append(f"Internet : +{data_volume(product.data_mb)}, valable {until_fr(p.valid_until)}")
    if p.data_after_mb is not None:
        out.append(f"Internet disponible après achat : {data_volume(p.data_after_mb)}")
    return out


# ------------------------------------------------------------------------------- results


def receipt_reply(
    line: Line,
    product: Product,
    price: int,
    source: PaymentSource,
    reference: str,
    projection: Projection,
    already: bool = False,
) -> Reply:
    """After success. `projection` here describes the line now (credit_after = current credit)."""
    head = "Cet achat est déjà fait, voici son reçu." if already else "C'est fait, merci ! Voici votre reçu."
    lines = [
        head,
        f"• Référence : {reference}",
        f"• Produit : {product.name}",
        f"• Prix : {xpf(price)} ({SOURCE_SHORT[source]})",
        f"• Ligne : {msisdn_fr(line.msisdn)}",
    ]
    if product.type == ProductType.RL:
        credit = _projected_xpf(projection.credit_after)
        lines.append(f"• Nouveau crédit : {credit}, valable {until_fr(projection.credit_valid_until)}")
        if projection.sms_after is not None:
            lines.append(f"• SMS : {projection.sms_after}")
    else:
        if source == PaymentSource.CREDIT:
            lines.append(f"• Crédit restant : {_projected_xpf(projection.credit_after)}")
        lines.append(f"• Internet ajouté : {data_volume(product.data_mb)}, valable {until_fr(projection.valid_until)}")
        if projection.data_after_mb is not None:
            lines.append(f"• Internet disponible : {data_volume(projection.data_after_mb)}")
    if source == PaymentSource.BILL:
        lines.append(f"{xpf(price)} seront ajoutés à votre prochaine facture.")
    return fit(Reply("\n".join(lines), quick_replies=[QR_BALANCE, QR_PURCHASES, QR_HELP]))


def payment_link_reply(
    product: Product, price: int, reference: str, url: str, token: str, minutes: int, already: bool = False
) -> Reply:
    head = "Votre paiement est déjà en attente. " if already else ""
    text = (
        f"{head}Pour payer {xpf(price)} ({product.name}) par carte bancaire, ouvrez la page de paiement "
        f"sécurisée (lien valable {minutes} minutes). Votre ligne sera créditée dès que la banque aura "
        f"confirmé le paiement, et je vous enverrai le reçu ici. Référence : {reference}."
    )
    return fit(
        Reply(
            text,
            buttons=[Button(f"Payer {xpf(price)}", url=url)],
            quick_replies=[QuickReply("Annuler", cancel_payload(token))],
        )
    )


def cancel_failed_reply(token: str, expires_at: datetime) -> Reply:
    """The card payment could not be closed at the bank's side yet: nothing is lost, say so."""
    return Reply(
        text=(
            "Je n'arrive pas à annuler le paiement auprès de la banque pour l'instant. N'utilisez pas le "
            f"lien de paiement : tant que vous ne payez pas, rien n'est débité, et il expire à "
            f"{to_noumea(expires_at):%H:%M}. Réessayez d'annuler dans un instant, ou appelez le 1000."
        ),
        quick_replies=[QuickReply("Annuler", cancel_payload(token)), QR_HELP],
    )


def refunded_text(price: int) -> str:
    """A payment that arrived after the purchase was cancelled or had expired."""
    return (
        f"Votre paiement de {xpf(price)} est arrivé après l'annulation (ou l'expiration) de cet achat : "
        "il ne sera pas appliqué à votre ligne et vous est remboursé sur votre carte (le délai dépend de "
        "votre banque). Vous pouvez refaire l'achat. Pour toute question, appelez le 1000."
    )


def delivery_pending_reply(product: Product, price: int, reference: str) -> Reply:
    """The operator has the purchase but has not confirmed it yet (or could not be reached)."""
    text = (
        f"Votre achat « {product.name} » ({xpf(price)}) est en cours de confirmation par Mobilis "
        f"(référence {reference}). Je vous envoie le reçu ici dès qu'il est confirmé, en général en "
        "quelques minutes. Ne le refaites pas : il ne sera jamais débité deux fois."
    )
    return fit(Reply(text, quick_replies=[QR_BALANCE, QR_HELP]))


DELIVERY_FAILURES = {
    "insufficient_credit": "votre crédit ne suffisait plus au moment de l'achat",
    "line_not_active": "votre ligne n'est pas active",
}


def delivery_failed_reply(product: Product, price: int, reason: str | None) -> Reply:
    """The operator refused the purchase: nothing was taken."""
    why = DELIVERY_FAILURES.get(reason or "", "le système de Mobilis l'a refusé")
    text = (
        f"L'achat « {product.name} » ({xpf(price)}) n'a pas abouti : {why}. {NOTHING_CHARGED} "
        "Vous pouvez réessayer, ou appeler le 1000 (gratuit depuis une ligne Mobilis)."
    )
    return fit(Reply(text, quick_replies=[QuickReply("Réessayer", choose_payload(product.code)), QR_BALANCE, QR_HELP]))


def refunded_after_refusal_text(price: int) -> str:
    """Paid by card, then refused by the operator: the payment goes back."""
    return (
        f"Paiement reçu, mais Mobilis n'a pas pu appliquer l'achat à votre ligne : vos {xpf(price)} vous sont "
        "remboursés sur votre carte (le délai dépend de votre banque). Vous pouvez réessayer, ou appeler le 1000."
    )


def refusal(text: str, *quick: QuickReply) -> Reply:
    return fit(Reply(text, quick_replies=list(quick) or [QR_BUY_AGAIN, QR_HELP]))


def insufficient_credit_reply(
    product: Product, price: int, credit: int, recharges: list[Product], token: str | None = None
) -> Reply:
    shortfall = price - credit
    text = (
        f"Votre crédit ({xpf(credit)}) ne suffit pas pour « {product.name} » ({xpf(price)}) : il manque "
        f"{xpf(shortfall)}. {NOTHING_CHARGED} Rechargez d'abord avec une Recharge Liberté"
        + (", puis confirmez à nouveau." if token else ", puis revenez choisir votre pass.")
    )
    quick = [QuickReply(f"Recharger {xpf(r.price_xpf)}", choose_payload(r.code)) for r in recharges[:3]]
    if token:
        quick.append(QuickReply("Confirmer", confirm_payload(token)))
        quick.append(QuickReply("Annuler", cancel_payload(token)))
    else:
        quick.append(QR_BALANCE)
    # A typed "oui" here would not say which: only a recharge can be picked by typing.
    return fit(Reply(text, quick_replies=quick, asks=product_question(recharges[:3]) if recharges else None))


def limit_count_text(limit: int) -> str:
    return (
        f"Vous avez atteint la limite de {plural(limit, 'achat')} par jour sur cette ligne. {NOTHING_CHARGED} "
        "Vous pourrez acheter à nouveau demain (minuit, heure de Nouméa), ou en agence OPT."
    )


def limit_amount_text(limit: int, spent: int, price: int) -> str:
    left = max(0, limit - spent)
    return (
        f"Cet achat de {xpf(price)} dépasserait la limite de {xpf(limit)} d'achats par jour sur cette ligne "
        f"(déjà {xpf(spent)} aujourd'hui, reste {xpf(left)}). {NOTHING_CHARGED} Choisissez un montant plus "
        "petit ou réessayez demain."
    )


def failed_payment_text(status: str, price: int) -> str:
    """After a card payment that did not go through (declined, abandoned, expired, cancelled)."""
    reasons = {
        "declined": f"Le paiement de {xpf(price)} a été refusé par la banque.",
        "abandoned": f"Le paiement de {xpf(price)} a été abandonné.",
        "expired": f"Le lien de paiement de {xpf(price)} a expiré sans paiement.",
        "cancelled": f"Le paiement de {xpf(price)} est annulé.",
    }
    reason = reasons.get(status, "Le paiement n'a pas abouti.")
    return (
        f"{reason} Rien n'a été débité et votre ligne n'a pas changé. "
        "Vous pouvez réessayer (une autre carte, par exemple) ou recharger en point de vente."
    )
