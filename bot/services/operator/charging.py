"""How Mobilis charging applies a purchase to a line's buckets.

The embedded simulator applies these rules; the purchase summary uses the same ones to show the line
after the purchase. With a real operator the charging system applies its own rules and the summary
is an estimate (the receipt then reads the real buckets).

Sample rules (the catalogue's figures are samples too, see data/catalogue.yml):
- a Recharge Liberté adds its credit and SMS to the line's credit and SMS buckets and extends
  their validity to at least `validity_days` from today; credit that had expired comes back
  (the balance answer promises "une Recharge Liberté le réactive");
- on a forfait bloqué, recharged credit goes to its own bucket ("Crédit rechargé") so that the
  monthly plan credit, reset at renewal, never swallows it;
- an IMD pack or a TOP UP is a new data bucket: IMD valid `validity_days` from now, TOP UP until
  the end of the current billing period (the catalogue says so), else `validity_days`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from bot.db.account import BucketKind, PlanFamily
from bot.db.purchasing import Product, ProductType
from bot.services.fr_format import end_of_day, local_date
from bot.services.operator.port import Bucket, Period

CREDIT_LABEL = "Crédit"
RECHARGED_CREDIT_LABEL = "Crédit rechargé"
SMS_LABEL = "SMS offerts"
UNITS = {BucketKind.CREDIT: "XPF", BucketKind.SMS: "SMS", BucketKind.DATA: "MB"}


def latest(buckets: Iterable[Bucket]) -> Bucket | None:
    """The bucket that lasts longest (no end date counts as the longest); between equals, the one
    the operator lists last (the newest)."""
    far = datetime.max.replace(tzinfo=UTC)
    ranked = [(b.valid_until or far, index, b) for index, b in enumerate(buckets)]
    return max(ranked, key=lambda r: (r[0], r[1]))[2] if ranked else None


def credit_bucket(buckets: Iterable[Bucket], family: PlanFamily) -> Bucket | None:
    """The credit bucket purchases pay from and recharges feed."""
    credit = [b for b in buckets if b.kind == BucketKind.CREDIT]
    if family == PlanFamily.FORFAIT_BLOQUE:
        credit = [b for b in credit if b.label == RECHARGED_CREDIT_LABEL]
    return latest(credit)


def recharge_label(family: PlanFamily) -> str:
    return RECHARGED_CREDIT_LABEL if family == PlanFamily.FORFAIT_BLOQUE else CREDIT_LABEL


def sms_bucket(buckets: Iterable[Bucket]) -> Bucket | None:
    """The bucket a recharge's free SMS go to."""
    return latest(b for b in buckets if b.kind == BucketKind.SMS and b.label == SMS_LABEL)


def new_validity(bucket: Bucket | None, until: datetime | None, now: datetime) -> datetime | None:
    """Validity of a bucket after a recharge: extended if alive, restarted if expired, and
    left alone when it never expires."""
    if bucket is None:
        return until
    if bucket.valid_until is None:
        return None
    if bucket.alive(now):
        return bucket.valid_until if until is None else max(bucket.valid_until, until)
    return until or bucket.valid_until


def pack_validity(product: Product, period: Period | None, now: datetime) -> datetime | None:
    """Until when what is bought can be used (`period`: the line's current billing period)."""
    days = product.validity_days
    if product.type == ProductType.RL:
        return end_of_day(local_date(now) + timedelta(days=days)) if days else None
    if product.type == ProductType.TOPUP and period is not None:
        return period.ends_at - timedelta(seconds=1)
    return now + timedelta(days=days) if days else None
