"""Answers of the purchase flow (French, English from bot/locale/en/purchasing.po): product
cards, summary, receipt, refusals.

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
from bot.services.fr_format import data_volume, date_fr, datetime_fr, family_fr, msisdn_fr, to_noumea, xpf
from bot.services.i18n import N_, _, ngettext
from bot.services.purchasing.catalogue_names import shown
from bot.services.purchasing.ledger import Projection
from bot.services.purchasing.offers import Offer
from bot.services.replies import QR_BALANCE, QR_HELP, QR_PURCHASES, Button, Card, QuickReply, Reply, fit

# Labels marked N_() and translated where used (_(TYPE_PLURALS[t])): the language is the turn's.
TYPE_PLURALS = {
    ProductType.RL: N_("Recharges Liberté"),
    ProductType.IMD: N_("Pass Internet à la demande (IMD)"),
    ProductType.TOPUP: N_("TOP UP (Internet en plus)"),
}
TYPE_SINGULAR = {
    ProductType.RL: N_("recharge"),
    ProductType.IMD: N_("pass Internet"),
    ProductType.TOPUP: N_("TOP UP"),
}
SOURCE_TEXT = {
    PaymentSource.CARD: N_("par carte bancaire (page de paiement sécurisée)"),
    PaymentSource.CREDIT: N_("déduit de votre crédit"),
    PaymentSource.BILL: N_("ajouté à votre prochaine facture"),
}
SOURCE_SHORT = {
    PaymentSource.CARD: N_("carte bancaire"),
    PaymentSource.CREDIT: N_("crédit"),
    PaymentSource.BILL: N_("sur facture"),
}
SAMPLE_NOTE = N_("(Tarif d'exemple, à confirmer par l'OPT.)")


def choose_payload(code: str) -> str:
    return payload("choose_product", {"product": code})


def confirm_payload(token: str) -> str:
    return payload("confirm_purchase", {"quote": token})


def cancel_payload(token: str) -> str:
    return payload("cancel_purchase", {"quote": token})


def buy_payload(product_type: ProductType | None = None) -> str:
    return payload("buy", {"product_type": product_type.value if product_type else None})


QR_BUY_AGAIN = QuickReply(N_("Voir les achats"), buy_payload())  # title translated by the renderer


def until_fr(moment: datetime | None) -> str:
    """Whole-day validities end at 23:59:59 in Nouméa: show the date only; otherwise the hour too."""
    if moment is None:
        return _("sans date limite")
    local = to_noumea(moment)
    return _("jusqu'au {date}").format(
        date=date_fr(moment) if (local.hour, local.minute) == (23, 59) else datetime_fr(moment)
    )


def contents(product: Product) -> str:
    """'1 050 F de crédit + 10 SMS, 120 jours' / '1 Go, 7 jours'."""
    parts = []
    if product.credit_xpf:
        parts.append(_("{amount} de crédit").format(amount=xpf(product.credit_xpf)))
    if product.sms:
        parts.append(f"{product.sms} SMS")
    if product.data_mb:
        parts.append(data_volume(product.data_mb))
    text = " + ".join(parts) or shown(product.name)
    if product.type == ProductType.TOPUP:
        return _("{contents}, jusqu'à la fin de la période").format(contents=text)
    if product.validity_days:
        days = product.validity_days
        return ngettext("{contents}, {n} jour", "{contents}, {n} jours", days).format(contents=text, n=days)
    return text


# ------------------------------------------------------------------------------ choosing


def product_card(product: Product) -> Card:
    subtitle = f"{xpf(product.price_xpf)} · {contents(product)}"
    return Card(
        title=shown(product.name),
        subtitle=subtitle,
        buttons=(Button(_("Choisir"), payload=choose_payload(product.code)),),
    )


def offers_reply(line: Line, offers: list[Offer], intro: str | None = None, credit: int | None = None) -> Reply:
    """Product cards (≤ 10) with a short reminder of how each type is paid."""
    head = intro or _("Voici ce que vous pouvez acheter pour la ligne {number} :").format(number=msisdn_fr(line.msisdn))
    lines = [head]
    seen = []
    for offer in offers:
        if offer.product.type not in seen:
            seen.append(offer.product.type)
            how = _(SOURCE_TEXT[offer.payment_source])
            if offer.payment_source == PaymentSource.CREDIT and credit is not None:
                how = _("{how} ({amount} disponibles)").format(how=how, amount=xpf(credit))
            lines.append(_("• {products} : {how}").format(products=_(TYPE_PLURALS[offer.product.type]), how=how))
    lines.append(_("Choisissez un produit : je vous montrerai un récapitulatif avant tout paiement."))
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
            _(
                "Aucun achat n'est proposé dans le chat pour votre {plan}. "
                "Le service client (1000) ou une agence OPT peuvent vous renseigner."
            ).format(plan=family_fr(line.plan_family)),
            quick_replies=[QR_HELP],
        )
    )


def impossible_intro(problem: str, request: ProductAsk, line: Line, offers: list[Offer]) -> str:
    """Why the message cannot be met, then what can."""
    if problem == "type":
        wanted = _(TYPE_PLURALS[ProductType(request.kind)])
        return _("Les {products} ne sont pas proposés pour votre {plan}. Voici ce que vous pouvez acheter :").format(
            products=wanted, plan=family_fr(line.plan_family)
        )
    if problem == "data":
        return _("Aucun pass Internet n'est proposé pour votre {plan}. Voici ce que vous pouvez acheter :").format(
            plan=family_fr(line.plan_family)
        )
    kind = _(TYPE_SINGULAR[offers[0].product.type]) if len({o.product.type for o in offers}) == 1 else _("achat")
    if problem == "volume" and request.data_mb is not None:
        volumes = ", ".join(data_volume(v) for v in sorted({o.product.data_mb for o in offers if o.product.data_mb}))
        sentences = [
            _("Je n'ai pas de {kind} de {volume} pour votre ligne.").format(
                kind=kind, volume=data_volume(request.data_mb)
            )
        ]
        if volumes:
            sentences.append(_("Volumes possibles : {volumes}.").format(volumes=volumes))
        sentences.append(_("Choisissez ci-dessous :"))
        return " ".join(sentences)
    prices = ", ".join(xpf(p) for p in sorted({o.product.price_xpf for o in offers}))
    if request.amount_xpf is not None:
        return _("Il n'existe pas de {kind} à {amount}. Montants possibles : {prices}. Choisissez ci-dessous :").format(
            kind=kind, amount=xpf(request.amount_xpf), prices=prices
        )
    return _("Il n'existe pas de {kind}. Montants possibles : {prices}. Choisissez ci-dessous :").format(
        kind=kind, prices=prices
    )


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
        _("Récapitulatif avant achat :"),
        _("• Produit : {product} ({contents})").format(product=shown(product.name), contents=contents(product)),
        _("• Prix : {price}").format(price=xpf(price)),
        _("• Ligne : {number}").format(number=msisdn_fr(line.msisdn)),
        _("• Paiement : {how}").format(how=_(SOURCE_TEXT[source])),
    ]
    lines += [f"• {text}" for text in after_lines(product, source, projection)]
    if product.is_sample:
        lines.append(_(SAMPLE_NOTE))
    if source == PaymentSource.CARD:
        lines.append(
            _(
                "Après « Confirmer », je vous envoie le lien de paiement ; votre ligne est créditée dès que "
                "la banque confirme le paiement."
            )
        )
    lines.append(
        _(
            "Confirmez-vous ? Sans réponse, cette proposition expire dans {minutes} minutes "
            "({time}) et rien ne sera fait."
        ).format(minutes=ttl_minutes, time=to_noumea(expires_at).strftime("%H:%M"))
    )
    return fit(
        Reply(
            "\n".join(lines),
            quick_replies=[
                QuickReply(_("Confirmer"), confirm_payload(token)),
                QuickReply(_("Annuler"), cancel_payload(token)),
            ],
            asks=confirmation_question(product, price, token),
        )
    )


def open_quote_reply(product: Product, price: int, token: str, expires_at: datetime, unclear: bool) -> Reply:
    template = (
        _(
            "Je n'ai pas bien compris votre réponse. Votre achat « {product} » ({price}) attend votre "
            "confirmation : touchez « Confirmer » pour l'acheter, ou « Annuler ». Sans réponse, il sera "
            "annulé à {time}."
        )
        if unclear
        else _(
            "Rappel : votre achat « {product} » ({price}) attend votre confirmation : touchez « Confirmer » "
            "pour l'acheter, ou « Annuler ». Sans réponse, il sera annulé à {time}."
        )
    )
    return fit(
        Reply(
            text=template.format(product=shown(product.name), price=xpf(price), time=f"{to_noumea(expires_at):%H:%M}"),
            quick_replies=[
                QuickReply(_("Confirmer"), confirm_payload(token)),
                QuickReply(_("Annuler"), cancel_payload(token)),
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
        credit = _projected_xpf(p.credit_after)
        until = until_fr(p.credit_valid_until)
        if p.credit_revived:
            out.append(
                _(
                    "Crédit après recharge : {credit} (dont {revived} de crédit expiré réactivé), valable {until}"
                ).format(credit=credit, revived=xpf(p.credit_revived), until=until)
            )
        else:
            out.append(_("Crédit après recharge : {credit}, valable {until}").format(credit=credit, until=until))
        if p.sms_after is not None:
            out.append(_("SMS après recharge : {count}").format(count=p.sms_after))
        return out
    if source == PaymentSource.CREDIT:
        out.append(
            _("Crédit après achat : {after} (aujourd'hui {now})").format(
                after=_projected_xpf(p.credit_after), now=_projected_xpf(p.credit_now)
            )
        )
    out.append(
        _("Internet : +{volume}, valable {until}").format(
            volume=data_volume(product.data_mb), until=until_fr(p.valid_until)
        )
    )
    if p.data_after_mb is not None:
        out.append(_("Internet disponible après achat : {volume}").format(volume=data_volume(p.data_after_mb)))
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
    head = _("Cet achat est déjà fait, voici son reçu.") if already else _("C'est fait, merci ! Voici votre reçu.")
    lines = [
        head,
        _("• Référence : {reference}").format(reference=reference),
        _("• Produit : {product}").format(product=shown(product.name)),
        _("• Prix : {price} ({how})").format(price=xpf(price), how=_(SOURCE_SHORT[source])),
        _("• Ligne : {number}").format(number=msisdn_fr(line.msisdn)),
    ]
    if product.type == ProductType.RL:
        credit = _projected_xpf(projection.credit_after)
        lines.append(
            _("• Nouveau crédit : {credit}, valable {until}").format(
                credit=credit, until=until_fr(projection.credit_valid_until)
            )
        )
        if projection.sms_after is not None:
            lines.append(_("• SMS : {count}").format(count=projection.sms_after))
    else:
        if source == PaymentSource.CREDIT:
            lines.append(_("• Crédit restant : {credit}").format(credit=_projected_xpf(projection.credit_after)))
        lines.append(
            _("• Internet ajouté : {volume}, valable {until}").format(
                volume=data_volume(product.data_mb), until=until_fr(projection.valid_until)
            )
        )
        if projection.data_after_mb is not None:
            lines.append(_("• Internet disponible : {volume}").format(volume=data_volume(projection.data_after_mb)))
    if source == PaymentSource.BILL:
        lines.append(_("{amount} seront ajoutés à votre prochaine facture.").format(amount=xpf(price)))
    return fit(Reply("\n".join(lines), quick_replies=[QR_BALANCE, QR_PURCHASES, QR_HELP]))


def payment_link_reply(
    product: Product, price: int, reference: str, url: str, token: str, minutes: int, already: bool = False
) -> Reply:
    text = _(
        "Pour payer {amount} ({product}) par carte bancaire, ouvrez la page de paiement "
        "sécurisée (lien valable {minutes} minutes). Votre ligne sera créditée dès que la banque aura "
        "confirmé le paiement, et je vous enverrai le reçu ici. Référence : {reference}."
    ).format(amount=xpf(price), product=shown(product.name), minutes=minutes, reference=reference)
    if already:
        text = _("Votre paiement est déjà en attente.") + " " + text
    return fit(
        Reply(
            text,
            buttons=[Button(_("Payer {amount}").format(amount=xpf(price)), url=url)],
            quick_replies=[QuickReply(_("Annuler"), cancel_payload(token))],
        )
    )


def cancel_failed_reply(token: str, expires_at: datetime) -> Reply:
    """The card payment could not be closed at the bank's side yet: nothing is lost, say so."""
    return Reply(
        text=_(
            "Je n'arrive pas à annuler le paiement auprès de la banque pour l'instant. N'utilisez pas le "
            "lien de paiement : tant que vous ne payez pas, rien n'est débité, et il expire à "
            "{time}. Réessayez d'annuler dans un instant, ou appelez le 1000."
        ).format(time=f"{to_noumea(expires_at):%H:%M}"),
        quick_replies=[QuickReply(_("Annuler"), cancel_payload(token)), QR_HELP],
    )


def refunded_text(price: int) -> str:
    """A payment that arrived after the purchase was cancelled or had expired."""
    return _(
        "Votre paiement de {amount} est arrivé après l'annulation (ou l'expiration) de cet achat : "
        "il ne sera pas appliqué à votre ligne et vous est remboursé sur votre carte (le délai dépend de "
        "votre banque). Vous pouvez refaire l'achat. Pour toute question, appelez le 1000."
    ).format(amount=xpf(price))


def delivery_pending_reply(product: Product, price: int, reference: str) -> Reply:
    """The operator has the purchase but has not confirmed it yet (or could not be reached)."""
    text = _(
        "Votre achat « {product} » ({price}) est en cours de confirmation par Mobilis "
        "(référence {reference}). Je vous envoie le reçu ici dès qu'il est confirmé, en général en "
        "quelques minutes. Ne le refaites pas : il ne sera jamais débité deux fois."
    ).format(product=shown(product.name), price=xpf(price), reference=reference)
    return fit(Reply(text, quick_replies=[QR_BALANCE, QR_HELP]))


DELIVERY_FAILURES = {
    "insufficient_credit": N_("votre crédit ne suffisait plus au moment de l'achat"),
    "line_not_active": N_("votre ligne n'est pas active"),
}


def delivery_failed_reply(product: Product, price: int, reason: str | None) -> Reply:
    """The operator refused the purchase: nothing was taken."""
    if reason is not None and reason in DELIVERY_FAILURES:
        why = _(DELIVERY_FAILURES[reason])
    else:
        why = _("le système de Mobilis l'a refusé")
    text = _(
        "L'achat « {product} » ({price}) n'a pas abouti : {why}. Rien n'a été acheté ni débité. "
        "Vous pouvez réessayer, ou appeler le 1000 (gratuit depuis une ligne Mobilis)."
    ).format(product=shown(product.name), price=xpf(price), why=why)
    again = QuickReply(_("Réessayer"), choose_payload(product.code))
    return fit(Reply(text, quick_replies=[again, QR_BALANCE, QR_HELP]))


def refunded_after_refusal_text(price: int) -> str:
    """Paid by card, then refused by the operator: the payment goes back."""
    return _(
        "Paiement reçu, mais Mobilis n'a pas pu appliquer l'achat à votre ligne : vos {amount} vous sont "
        "remboursés sur votre carte (le délai dépend de votre banque). Vous pouvez réessayer, ou appeler le 1000."
    ).format(amount=xpf(price))


def refusal(text: str, *quick: QuickReply) -> Reply:
    return fit(Reply(text, quick_replies=list(quick) or [QR_BUY_AGAIN, QR_HELP]))


def insufficient_credit_reply(
    product: Product, price: int, credit: int, recharges: list[Product], token: str | None = None
) -> Reply:
    shortfall = price - credit
    template = (
        _(
            "Votre crédit ({credit}) ne suffit pas pour « {product} » ({price}) : il manque "
            "{shortfall}. Rien n'a été acheté ni débité. Rechargez d'abord avec une Recharge Liberté, "
            "puis confirmez à nouveau."
        )
        if token
        else _(
            "Votre crédit ({credit}) ne suffit pas pour « {product} » ({price}) : il manque "
            "{shortfall}. Rien n'a été acheté ni débité. Rechargez d'abord avec une Recharge Liberté, "
            "puis revenez choisir votre pass."
        )
    )
    text = template.format(credit=xpf(credit), product=shown(product.name), price=xpf(price), shortfall=xpf(shortfall))
    quick = [
        QuickReply(_("Recharger {amount}").format(amount=xpf(r.price_xpf)), choose_payload(r.code))
        for r in recharges[:3]
    ]
    if token:
        quick.append(QuickReply(_("Confirmer"), confirm_payload(token)))
        quick.append(QuickReply(_("Annuler"), cancel_payload(token)))
    else:
        quick.append(QR_BALANCE)
    # A typed "oui" here would not say which: only a recharge can be picked by typing.
    return fit(Reply(text, quick_replies=quick, asks=product_question(recharges[:3]) if recharges else None))


def limit_count_text(limit: int) -> str:
    return ngettext(
        "Vous avez atteint la limite de {n} achat par jour sur cette ligne. Rien n'a été acheté ni débité. "
        "Vous pourrez acheter à nouveau demain (minuit, heure de Nouméa), ou en agence OPT.",
        "Vous avez atteint la limite de {n} achats par jour sur cette ligne. Rien n'a été acheté ni débité. "
        "Vous pourrez acheter à nouveau demain (minuit, heure de Nouméa), ou en agence OPT.",
        limit,
    ).format(n=limit)


def limit_amount_text(limit: int, spent: int, price: int) -> str:
    left = max(0, limit - spent)
    return _(
        "Cet achat de {price} dépasserait la limite de {limit} d'achats par jour sur cette ligne "
        "(déjà {spent} aujourd'hui, reste {left}). Rien n'a été acheté ni débité. Choisissez un montant plus "
        "petit ou réessayez demain."
    ).format(price=xpf(price), limit=xpf(limit), spent=xpf(spent), left=xpf(left))


def failed_payment_text(status: str, price: int) -> str:
    """After a card payment that did not go through (declined, abandoned, expired, cancelled)."""
    reasons = {
        "declined": _("Le paiement de {amount} a été refusé par la banque."),
        "abandoned": _("Le paiement de {amount} a été abandonné."),
        "expired": _("Le lien de paiement de {amount} a expiré sans paiement."),
        "cancelled": _("Le paiement de {amount} est annulé."),
    }
    reason = reasons[status].format(amount=xpf(price)) if status in reasons else _("Le paiement n'a pas abouti.")
    return (
        reason
        + " "
        + _(
            "Rien n'a été débité et votre ligne n'a pas changé. "
            "Vous pouvez réessayer (une autre carte, par exemple) ou recharger en point de vente."
        )
    )
