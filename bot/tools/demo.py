"""Demo data set: one or more lines per plan family, with 4 months of history relative to today.

`load_demo(session, today)` is idempotent: lines are matched by number and kept (their ids stay,
so Messenger links made in the simulator survive a reload); their balances, periods, usage,
notifications and demo purchases (reference "DEMO-…") are rebuilt. Purchases made through the
assistant on a demo line are left alone. Everything is placed before today 00:00 (Nouméa) so
that the data looks right at any hour of `today`. Randomness is seeded per line: same `today`,
same rows. Figures are samples, not real subscriber data.

Run: python -m bot.tools.demo [--today 2026-03-15] [--markdown]   (migrations and catalogue first)
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.db.account import (
    Balance,
    BillingPeriod,
    BucketKind,
    Line,
    LineStatus,
    Notification,
    Offer,
    PlanFamily,
    Subscriber,
    UsageKind,
    UsageRecord,
)
from bot.db.base import Base
from bot.db.purchasing import Product, ProductEligibility, Purchase, PurchaseStatus
from bot.services.account.accounts import add_months
from bot.services.fr_format import day_start, end_of_day, family_fr, local_date, msisdn_fr

SEED = 687
REFERENCE_PREFIX = "DEMO-"
UNITS = {BucketKind.CREDIT: "XPF", BucketKind.SMS: "SMS", BucketKind.DATA: "MB", BucketKind.VOICE: "s"}


class DemoError(RuntimeError):
    pass


@dataclass(frozen=True)
class DemoLine:
    msisdn: str
    owner: str  # key in SUBSCRIBERS
    family: PlanFamily
    offer_code: str
    activated_days_ago: int
    note: str  # what is interesting about it (docs/demo-lines.md)
    status: LineStatus = LineStatus.ACTIVE


SUBSCRIBERS = {
    "marie": ("Marie", "Wamytan"),
    "jean": ("Jean-Pierre", "Gope"),
    "sylvie": ("Sylvie", "Martin"),
    "emma": ("Emma", "Clarke"),
    "paul": ("Paul", "Tein"),
    "georges": ("Georges", "Wahmetu"),
    "lea": ("Léa", "Nakamura"),
    "thomas": ("Thomas", "Ihage"),
}

DEMO_LINES = (
    DemoLine(
        "791234",
        "marie",
        PlanFamily.LIBERTE,
        "KIT_LIBERTE",
        400,
        "Marie (2 lignes). Crédit 2 340 F, Pass Internet 612 Mo, 16 achats RL/IMD en 3 mois (2 pages)",
    ),
    DemoLine(
        "874512",
        "marie",
        PlanFamily.FORFAIT_M,
        "M_10GO",
        600,
        "Marie (2 lignes). 9,6 Go sur 10 Go utilisés, TOP UP 1 Go en réserve, 3 hors forfait (2 965 F)",
    ),
    DemoLine("797878", "sylvie", PlanFamily.LIBERTE, "KIT_LIBERTE", 300, "Crédit 780 F qui expire dans 5 jours"),
    DemoLine(
        "771020",
        "jean",
        PlanFamily.LIBERTE,
        "KIT_LIBERTE",
        500,
        "Crédit de 320 F expiré il y a 6 jours, aucun achat sur 3 mois",
    ),
    DemoLine(
        "951177",
        "emma",
        PlanFamily.TOURISM_CARD,
        "TOURISM_CARD",
        50,
        "Visiteuse : plus que 450 Mo sur 25 Go, carte valable 40 jours",
    ),
    DemoLine(
        "781515",
        "paul",
        PlanFamily.FORFAIT_BLOQUE,
        "BLOQUE_2000",
        700,
        "Crédit presque épuisé (95 F, 3 SMS), renouvellement dans 9 jours",
    ),
    DemoLine(
        "835050",
        "georges",
        PlanFamily.FORFAIT_HORAIRE,
        "HORAIRE_2H",
        2000,
        "Forfait horaire (exemple) : 2 h épuisées, 14 min hors forfait",
    ),
    DemoLine(
        "546789",
        "lea",
        PlanFamily.DATA_SEUL,
        "IM4G_25GO",
        365,
        "Box 4G : 25 Go du mois épuisés, TOP UP 5 Go entamé (2,2 Go restants)",
    ),
    DemoLine(
        "921111",
        "thomas",
        PlanFamily.FORFAIT_M,
        "M_2GO",
        200,
        "Ligne suspendue (téléphone perdu)",
        LineStatus.SUSPENDED,
    ),
)

# Sample tariffs for prepaid usage deducted from credit (not OPT-NC's figures).
PREPAID_CALL_XPF_PER_MIN = 40
PREPAID_SMS_XPF = 20


@dataclass
class DemoSummary:
    lines: list[str] = field(default_factory=list)
    usage_records: int = 0
    purchases: int = 0
    notifications: int = 0


def _split(rng: random.Random, total: int, count: int) -> list[int]:
    """`count` positive integers summing exactly to `total` (count reduced if total is small)."""
    count = max(1, min(count, total))
    weights = [rng.uniform(0.3, 1.7) for _ in range(count)]
    scale = (total - count) / sum(weights)
    parts = [1 + int(w * scale) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


def _masked_local(rng: random.Random) -> str:
    return f"{rng.choice('5789')}{rng.randint(0, 9)} •• •• {rng.randint(0, 99):02d}"


class _LineBuilder:
    """Accumulates the rows of one demo line relative to `today`."""

    def __init__(self, session: Session, today: date, line: Line):
        self.session, self.today, self.line = session, today, line
        self.rng = random.Random(f"{SEED}:{line.msisdn}")
        self.midnight = day_start(today)  # nothing is dated at or after this instant
        self.usage: list[dict[str, Any]] = []
        self.rows: list[Base] = []
        self.purchase_count = 0

    def at(self, days_ago: int, hour: int | None = None) -> datetime:
        hour = self.rng.randint(7, 20) if hour is None else hour
        return day_start(self.today - timedelta(days=days_ago)) + timedelta(hours=hour, minutes=self.rng.randint(0, 59))

    def valid_until(self, days_from_today: int) -> datetime:
        return end_of_day(self.today + timedelta(days=days_from_today))

    def balance(self, kind: BucketKind, label: str, remaining: int, initial: int, valid_until: datetime | None) -> None:
        self.rows.append(
            Balance(
                line_id=self.line.id,
                kind=kind,
                label=label,
                remaining=remaining,
                initial=initial,
                unit=UNITS[kind],
                valid_until=valid_until,
                updated_at=self.midnight,
            )
        )

    def purchase(
        self, days_ago: int, code: str, status: PurchaseStatus = PurchaseStatus.SUCCEEDED, failure: str | None = None
    ) -> None:
        product = self.session.scalar(select(Product).where(Product.code == code))
        rule = self.session.get(ProductEligibility, (product.id, self.line.plan_family)) if product else None
        if product is None or rule is None:
            raise DemoError(f"{code} absent du catalogue ou non autorisé pour {self.line.plan_family.value}")
        self.purchase_count += 1
        created = self.at(days_ago)
        done = status in (PurchaseStatus.SUCCEEDED, PurchaseStatus.FAILED)
        self.rows.append(
            Purchase(
                line_id=self.line.id,
                product_id=product.id,
                product_type=product.type,
                price_xpf=product.price_xpf,
                payment_source=rule.payment_source,
                status=status,
                failure_reason=failure,
                reference=f"{REFERENCE_PREFIX}{self.line.msisdn}-{self.purchase_count:03d}",
                created_at=created,
                completed_at=created + timedelta(seconds=4) if done else None,
            )
        )

    def notify(self, days_ago: int, title: str, body: str, read: bool) -> None:
        created = self.at(days_ago)
        self.rows.append(
            Notification(
                line_id=self.line.id,
                title=title,
                body=body,
                created_at=created,
                read_at=created + timedelta(hours=2) if read else None,
            )
        )

    def period(self, start: date, allowances: tuple[int | None, int | None, int | None]) -> tuple[datetime, datetime]:
        starts, ends = day_start(start), day_start(add_months(start, 1))
        voice, sms, data = allowances
        self.rows.append(
            BillingPeriod(
                line_id=self.line.id,
                starts_at=starts,
                ends_at=ends,
                voice_seconds_allowance=voice,
                sms_allowance=sms,
                data_mb_allowance=data,
            )
        )
        return starts, ends

    def spread(
        self,
        kind: UsageKind,
        start: datetime,
        end: datetime,
        total: int,
        count: int,
        in_plan: bool = True,
        prepaid: bool = False,
    ) -> None:
        """`total` (seconds, SMS or MB) cut into about `count` records at random times in [start, end)."""
        end = min(end, self.midnight)
        if total <= 0 or end <= start:
            return
        span = (end - start).total_seconds()
        for quantity in _split(self.rng, total, count):
            when = start + timedelta(seconds=self.rng.uniform(0, span))
            amount = 0
            if kind is UsageKind.VOICE:
                text = f"Appel vers {_masked_local(self.rng)}"
                amount = -(-quantity * PREPAID_CALL_XPF_PER_MIN // 60) if prepaid else 0
            elif kind is UsageKind.SMS:
                text = f"SMS vers {_masked_local(self.rng)}"
                amount = quantity * PREPAID_SMS_XPF if prepaid else 0
            else:
                text = "Internet mobile"
            self.usage.append(
                dict(
                    line_id=self.line.id,
                    occurred_at=when,
                    kind=kind,
                    quantity=quantity,
                    in_plan=in_plan,
                    amount_xpf=amount,
                    description=text,
                )
            )

    def extra(self, when: datetime, kind: UsageKind, quantity: int, amount: int, text: str) -> None:
        """One hors forfait charge."""
        self.usage.append(
            dict(
                line_id=self.line.id,
                occurred_at=when,
                kind=kind,
                quantity=quantity,
                in_plan=False,
                amount_xpf=amount,
                description=text,
            )
        )

    def prepaid_history(self, until_days_ago: int = 0, data_mb: tuple[int, int] = (0, 0), days: int = 120) -> None:
        """Monthly chunks of calls, SMS and data for a prepaid line."""
        first = min(days, (self.today - local_date(self.line.activated_at)).days)
        end = day_start(self.today - timedelta(days=until_days_ago))
        for chunk in range(first, 0, -30):
            start = day_start(self.today - timedelta(days=chunk))
            stop = min(end, start + timedelta(days=30))
            self.spread(UsageKind.VOICE, start, stop, self.rng.randint(900, 2700), 15, prepaid=True)
            self.spread(UsageKind.SMS, start, stop, self.rng.randint(8, 30), 30, prepaid=True)
            if data_mb[1]:
                self.spread(UsageKind.DATA, start, stop, self.rng.randint(*data_mb), 25)

    def _share_of(self, allowance: int | None, default: int) -> int:
        """A past period's use: 40-95 % of the allowance (or of `default` when unlimited)."""
        return int((allowance or default) * self.rng.uniform(0.4, 0.95))

    def periods(
        self, offer: Offer, current: tuple[int, int, int], until: datetime | None = None
    ) -> tuple[datetime, datetime]:
        """Four past periods plus the current one. `current` = exact (voice s, SMS, MB) used
        in the current period; earlier periods use 40-95 % of each allowance."""
        allowances = (
            None if offer.voice_unlimited else offer.voice_seconds,
            None if offer.sms_unlimited else offer.sms,
            None if offer.data_unlimited else offer.data_mb,
        )
        first = current_period_start(self.today)
        for back in range(4, -1, -1):
            start, end = self.period(add_months(first, -back), allowances)
            stop = min(end, until or end)
            if back == 0:
                voice, sms, data = current
            else:
                voice, sms, data = (
                    self._share_of(allowances[0], 7200),
                    self._share_of(allowances[1], 120),
                    self._share_of(allowances[2], 2048),
                )
            if offer.voice_seconds or offer.voice_unlimited:
                self.spread(UsageKind.VOICE, start, stop, voice, 25)
            if offer.sms or offer.sms_unlimited:
                self.spread(UsageKind.SMS, start, stop, sms, 30)
            self.spread(UsageKind.DATA, start, stop, data, 30)
        return start, end

    def save(self) -> None:
        self.session.add_all(self.rows)
        if self.usage:
            self.session.execute(insert(UsageRecord), self.usage)


def current_period_start(today: date) -> date:
    """Billing day chosen so the current period started 12-15 days ago whatever `today` is
    (≤ 28th so every month has it): usage and hors forfait always have room to show."""
    anchor = today - timedelta(days=12)
    return date(anchor.year, anchor.month, min(anchor.day, 28))


# ---------------------------------------------------------------------------- the scenarios


def _marie_liberte(b: _LineBuilder) -> None:
    b.prepaid_history(data_mb=(2500, 4000))
    b.balance(BucketKind.CREDIT, "Crédit", 2340, 3150, b.valid_until(130))
    b.balance(BucketKind.SMS, "SMS offerts", 64, 90, b.valid_until(130))
    b.balance(BucketKind.DATA, "Pass Internet 1 Go", 612, 1024, b.valid_until(4))
    for days in (20, 50, 80, 110):
        b.purchase(days, "RL_3000")
    b.purchase(21, "RL_3000", PurchaseStatus.FAILED, "Paiement refusé par la banque")
    for days in (3, 10, 17, 24, 31, 38, 45, 52, 59, 66, 73, 85, 100, 115):
        b.purchase(days, "IMD_1GO")
    b.notify(1, "Pass Internet", "Il vous reste moins de 700 Mo sur votre Pass Internet 1 Go.", read=False)
    b.notify(3, "Achat confirmé", "Votre Pass Internet 1 Go est activé jusqu'au terme de sa validité.", read=True)
    b.notify(20, "Recharge réussie", "Votre recharge Liberté 3 000 a été créditée.", read=True)


def _marie_forfait_m(b: _LineBuilder, offer: Offer) -> None:
    start, end = b.periods(offer, current=(4320, 86, 9830))
    b.extra(
        start + timedelta(days=2, hours=19, minutes=12),
        UsageKind.VOICE,
        750,
        1125,
        "Appel vers la France (+33 6•• •• •• 41)",
    )
    b.extra(
        start + timedelta(days=4, hours=9, minutes=47), UsageKind.SMS, 2, 90, "SMS vers l'Australie (+61 4•• ••• •12)"
    )
    b.extra(
        start + timedelta(days=5, hours=16, minutes=5), UsageKind.DATA, 35, 1750, "Internet à l'étranger (Australie)"
    )
    for back in (1, 2, 3):  # older hors forfait, outside the current period
        b.extra(
            day_start(add_months(current_period_start(b.today), -back)) + timedelta(days=6, hours=18, minutes=30),
            UsageKind.VOICE,
            300,
            450,
            "Appel vers la France (+33 1 •• •• •• 07)",
        )
    b.balance(BucketKind.DATA, "TOP UP 1 Go", 1024, 1024, end - timedelta(seconds=1))  # bought ahead
    for days in (3, 33, 64, 95):
        b.purchase(days, "TOPUP_1GO")
    b.purchase(48, "TOPUP_5GO")
    b.notify(4, "Internet mobile", "Vous avez consommé 90 % de l'Internet de votre forfait.", read=False)
    b.notify(8, "Hors forfait", "Des consommations hors forfait ont été enregistrées (étranger).", read=False)
    b.notify(12, "Facture disponible", "Votre facture du mois est disponible dans votre espace client.", read=True)


def _sylvie_expiring(b: _LineBuilder) -> None:
    b.prepaid_history()
    b.balance(BucketKind.CREDIT, "Crédit", 780, 1050, b.valid_until(5))
    b.balance(BucketKind.SMS, "SMS offerts", 6, 10, b.valid_until(5))
    b.purchase(115, "RL_1000")
    b.purchase(30, "IMD_200MO")
    b.purchase(60, "IMD_200MO")
    b.notify(
        2, "Crédit bientôt expiré", "Votre crédit expire dans quelques jours : rechargez pour le garder.", read=False
    )


def _jean_expired(b: _LineBuilder) -> None:
    b.prepaid_history(until_days_ago=6)
    b.balance(BucketKind.CREDIT, "Crédit", 320, 1050, b.valid_until(-6))
    b.balance(BucketKind.SMS, "SMS offerts", 4, 10, b.valid_until(-6))
    b.purchase(126, "RL_1000")
    b.notify(6, "Crédit expiré", "Votre crédit a expiré. Une recharge Liberté le réactive.", read=False)


def _emma_tourism(b: _LineBuilder) -> None:
    b.prepaid_history(data_mb=(13000, 14000), days=50)  # two chunks ≈ 25 Go + the two passes
    b.balance(BucketKind.CREDIT, "Crédit", 430, 2000, b.valid_until(40))
    b.balance(BucketKind.DATA, "Tourism Card 25 Go", 450, 25600, b.valid_until(40))
    b.purchase(30, "IMD_1GO")
    b.purchase(9, "IMD_200MO")
    b.notify(49, "Welcome / Bienvenue", "Bienvenue en Nouvelle-Calédonie ! Votre Tourism Card est active.", read=True)
    b.notify(1, "Internet", "Il vous reste 450 Mo d'Internet.", read=False)


def _paul_bloque(b: _LineBuilder) -> None:
    b.prepaid_history()
    b.balance(BucketKind.CREDIT, "Crédit du forfait", 95, 2120, b.valid_until(9))
    b.balance(BucketKind.SMS, "SMS du forfait", 3, 40, b.valid_until(9))
    b.purchase(40, "RL_1000")
    b.purchase(75, "RL_1000")
    b.notify(2, "Crédit presque épuisé", "Il vous reste moins de 100 F de crédit ce mois-ci.", read=False)


def _georges_horaire(b: _LineBuilder, offer: Offer) -> None:
    start, _ = b.periods(offer, current=(7200, 37, 610))
    b.extra(
        start + timedelta(days=9, hours=17, minutes=40), UsageKind.VOICE, 840, 560, "Appels au-delà du forfait (14 min)"
    )
    b.purchase(50, "TOPUP_1GO")
    b.purchase(51, "TOPUP_1GO", PurchaseStatus.CANCELLED)
    b.notify(
        3, "Forfait épuisé", "Vos 2 h d'appel sont consommées : les appels sont facturés hors forfait.", read=False
    )


def _lea_data(b: _LineBuilder, offer: Offer) -> None:
    _, end = b.periods(offer, current=(0, 0, 25600))  # allowance used up: the TOP UP is in use
    b.balance(BucketKind.DATA, "TOP UP 5 Go", 2300, 5120, end - timedelta(seconds=1))
    b.purchase(6, "TOPUP_5GO")
    b.purchase(52, "TOPUP_5GO")
    b.notify(6, "TOP UP activé", "Votre TOP UP 5 Go est disponible jusqu'à la fin de la période.", read=True)


def _thomas_suspended(b: _LineBuilder, offer: Offer) -> None:
    b.periods(offer, current=(600, 12, 300), until=day_start(b.today - timedelta(days=8)))
    b.notify(8, "Ligne suspendue", "Votre ligne est suspendue suite à la déclaration de perte.", read=True)


SCENARIOS: dict[str, Callable[[_LineBuilder], None]] = {
    "791234": _marie_liberte,
    "797878": _sylvie_expiring,
    "771020": _jean_expired,
    "951177": _emma_tourism,
    "781515": _paul_bloque,
}
# Forfaits: the scenario follows the allowances of the line's offer.
OFFER_SCENARIOS: dict[str, Callable[[_LineBuilder, Offer], None]] = {
    "874512": _marie_forfait_m,
    "835050": _georges_horaire,
    "546789": _lea_data,
    "921111": _thomas_suspended,
}


def _upsert_line(session: Session, spec: DemoLine, owners: dict[str, Subscriber], today: date) -> Line:
    line = session.scalar(select(Line).where(Line.msisdn == spec.msisdn))
    owner = owners.get(spec.owner) or (line.subscriber if line else None)
    first, last = SUBSCRIBERS[spec.owner]
    if owner is None:
        owner = Subscriber(first_name=first, last_name=last, created_at=day_start(today) - timedelta(days=2000))
        session.add(owner)
    owner.first_name, owner.last_name = first, last
    owners[spec.owner] = owner
    if line is None:
        line = Line(msisdn=spec.msisdn)
        session.add(line)
    line.subscriber = owner
    line.plan_family, line.offer_code, line.status = spec.family, spec.offer_code, spec.status
    line.activated_at = day_start(today - timedelta(days=spec.activated_days_ago)) + timedelta(hours=10)
    return line


def _clear(session: Session, line: Line) -> None:
    for model in (Balance, BillingPeriod, UsageRecord, Notification):
        session.execute(delete(model).where(model.line_id == line.id))
    session.execute(
        delete(Purchase).where(Purchase.line_id == line.id, Purchase.reference.like(f"{REFERENCE_PREFIX}%"))
    )


def load_demo(session: Session, today: date | None = None) -> DemoSummary:
    """(Re)build the demo lines relative to `today` (Nouméa date, default: now). Needs the
    catalogue synced first. The caller commits."""
    today = today or local_date(utcnow())
    missing = {s.offer_code for s in DEMO_LINES} - set(session.scalars(select(Offer.code)))
    if missing:
        raise DemoError(
            f"Offres absentes ({', '.join(sorted(missing))}) : "
            "lancez d'abord python -m bot.services.purchasing.catalogue"
        )
    summary = DemoSummary()
    owners: dict[str, Subscriber] = {}
    for spec in DEMO_LINES:
        line = _upsert_line(session, spec, owners, today)
        session.flush()
        _clear(session, line)
        builder = _LineBuilder(session, today, line)
        if spec.msisdn in OFFER_SCENARIOS:
            OFFER_SCENARIOS[spec.msisdn](builder, session.get_one(Offer, spec.offer_code))
        else:
            SCENARIOS[spec.msisdn](builder)
        builder.save()
        summary.lines.append(spec.msisdn)
        summary.usage_records += len(builder.usage)
        summary.purchases += builder.purchase_count
        summary.notifications += sum(isinstance(r, Notification) for r in builder.rows)
    session.flush()
    return summary


def markdown_table() -> str:
    rows = ["| Numéro | Famille | Offre | Intérêt pour la démo |", "|---|---|---|---|"]
    for s in DEMO_LINES:
        family = family_fr(s.family)
        rows.append(f"| {msisdn_fr(s.msisdn)} | {family[0].upper() + family[1:]} | {s.offer_code} | {s.note} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Charge les lignes de démonstration (idempotent).")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="date de référence AAAA-MM-JJ")
    parser.add_argument("--markdown", action="store_true", help="affiche le tableau des lignes et s'arrête")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown_table(), end="")
        return 0
    from bot.db.base import session_scope
    from bot.db.migrate import database_url

    with session_scope(database_url()) as session:
        summary = load_demo(session, args.today)
    print(
        f"Démo chargée : {len(summary.lines)} lignes, {summary.usage_records} consommations, "
        f"{summary.purchases} achats, {summary.notifications} notifications."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
