from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db.account import Balance, BucketKind, Line, LineStatus, Notification, PlanFamily, UsageRecord
from bot.db.purchasing import PaymentSource, Product, ProductType, Purchase, PurchaseStatus
from bot.services.fr_format import day_start
from bot.services.operator.embedded import EmbeddedOperator
from bot.services.purchasing.catalogue import sync_catalogue
from bot.tools import demo

DOCS = Path(__file__).resolve().parents[2] / "docs" / "demo-lines.md"


def lines_by_number(session) -> dict[str, Line]:
    return {line.msisdn: line for line in session.scalars(select(Line))}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def usage_fingerprint(session) -> list[tuple]:
    rows = session.execute(
        select(
            Line.msisdn,
            UsageRecord.occurred_at,
            UsageRecord.kind,
            UsageRecord.quantity,
            UsageRecord.in_plan,
            UsageRecord.amount_xpf,
            UsageRecord.description,
        )
        .join(Line, Line.id == UsageRecord.line_id)
        .order_by(Line.msisdn, UsageRecord.occurred_at, UsageRecord.quantity)
    ).all()
    return [tuple(r) for r in rows]


def test_every_plan_family_and_valid_numbers(demo_session):
    lines = lines_by_number(demo_session)
    assert {line.plan_family for line in lines.values()} == set(PlanFamily)
    for number, line in lines.items():
        assert len(number) == 6 and number.isdigit() and number[0] in "5789"
        assert line.offer.plan_family == line.plan_family  # the offer matches the family
    assert lines["921111"].status == LineStatus.SUSPENDED


def test_one_subscriber_owns_two_lines(demo_session):
    lines = lines_by_number(demo_session)
    assert lines["791234"].subscriber_id == lines["874512"].subscriber_id
    assert [line.msisdn for line in lines["791234"].subscriber.lines] == ["791234", "874512"]


def test_credit_states(demo_session, demo_today):
    lines = lines_by_number(demo_session)

    def credit(n):
        return demo_session.scalar(
            select(Balance).where(Balance.line_id == lines[n].id, Balance.kind == BucketKind.CREDIT)
        )

    midnight = day_start(demo_today)
    assert credit("771020").valid_until < midnight  # expired
    assert credit("771020").remaining == 320
    expiring = credit("797878")
    assert midnight < expiring.valid_until < midnight + timedelta(days=7)
    assert credit("781515").remaining < 300  # low credit
    assert credit("791234").valid_until > midnight + timedelta(days=100)


def test_nearly_exhausted_data_bucket(demo_session):
    tourism = lines_by_number(demo_session)["951177"]
    data = demo_session.scalar(select(Balance).where(Balance.line_id == tourism.id, Balance.kind == BucketKind.DATA))
    assert (data.remaining, data.initial) == (450, 25600)


def test_hors_forfait_on_forfait_m_in_current_period(demo_session, demo_now):
    line = lines_by_number(demo_session)["874512"]
    period = EmbeddedOperator(demo_session).billing_period(line, demo_now)
    extras = demo_session.scalars(
        select(UsageRecord).where(
            UsageRecord.line_id == line.id, UsageRecord.in_plan.is_(False), UsageRecord.occurred_at >= period.starts_at
        )
    ).all()
    assert sorted(r.amount_xpf for r in extras) == [90, 1125, 1750]


def test_four_months_of_history_and_nothing_from_today(demo_session, demo_today):
    midnight = day_start(demo_today)
    oldest = demo_session.scalar(select(func.min(UsageRecord.occurred_at)))
    newest = demo_session.scalar(select(func.max(UsageRecord.occurred_at)))
    assert oldest <= midnight - timedelta(days=110)
    assert newest < midnight
    assert demo_session.scalar(select(func.max(Purchase.created_at))) < midnight
    assert demo_session.scalar(select(func.min(Purchase.created_at))) <= midnight - timedelta(days=110)


def test_purchases_cover_each_type_with_the_family_payment_rule(demo_session):
    rows = demo_session.execute(
        select(Line.plan_family, Purchase.product_type, Purchase.payment_source).join(Line, Line.id == Purchase.line_id)
    ).all()
    assert {t for _, t, _ in rows} == set(ProductType)
    for family, ptype, payment in rows:
        if ptype == ProductType.TOPUP:
            assert family in (PlanFamily.FORFAIT_M, PlanFamily.FORFAIT_HORAIRE, PlanFamily.DATA_SEUL)
            assert payment == PaymentSource.BILL
        if ptype == ProductType.IMD:
            assert payment == PaymentSource.CREDIT
    statuses = set(demo_session.scalars(select(Purchase.status)))
    assert {PurchaseStatus.SUCCEEDED, PurchaseStatus.FAILED, PurchaseStatus.CANCELLED} <= statuses


def test_some_notifications_are_unread(demo_session):
    unread = demo_session.scalar(select(func.count()).select_from(Notification).where(Notification.read_at.is_(None)))
    assert 0 < unread < count(demo_session, Notification)


def test_reload_is_idempotent_and_keeps_line_ids(demo_session, demo_today):
    ids = {n: line.id for n, line in lines_by_number(demo_session).items()}
    before = [count(demo_session, m) for m in (Line, Balance, UsageRecord, Purchase, Notification)]
    fingerprint = usage_fingerprint(demo_session)
    demo.load_demo(demo_session, demo_today)
    demo_session.commit()
    assert {n: line.id for n, line in lines_by_number(demo_session).items()} == ids
    assert [count(demo_session, m) for m in (Line, Balance, UsageRecord, Purchase, Notification)] == before
    assert usage_fingerprint(demo_session) == fingerprint


def test_reload_keeps_purchases_made_through_the_assistant(demo_session, demo_today, demo_now):
    line = lines_by_number(demo_session)["791234"]
    product = demo_session.scalar(select(Product).where(Product.code == "IMD_1GO"))
    demo_session.add(
        Purchase(
            line_id=line.id,
            product_id=product.id,
            product_type=product.type,
            price_xpf=1000,
            payment_source=PaymentSource.CREDIT,
            status=PurchaseStatus.SUCCEEDED,
            idempotency_key="psid-1:abc",
            created_at=demo_now,
        )
    )
    demo_session.commit()
    demo.load_demo(demo_session, demo_today)
    assert demo_session.scalar(select(Purchase).where(Purchase.idempotency_key == "psid-1:abc")) is not None


def test_dates_follow_today(demo_session, demo_today):
    later = demo_today + timedelta(days=40)
    demo.load_demo(demo_session, later)
    expiring = demo_session.scalar(
        select(Balance)
        .join(Line, Line.id == Balance.line_id)
        .where(Line.msisdn == "797878", Balance.kind == BucketKind.CREDIT)
    )
    assert expiring.valid_until.date() in {later + timedelta(days=5), later + timedelta(days=6)}  # UTC vs Nouméa
    assert demo_session.scalar(select(func.max(UsageRecord.occurred_at))) < day_start(later)


def test_deterministic_across_databases(session, demo_session, demo_today):
    sync_catalogue(session)
    demo.load_demo(session, demo_today)
    assert usage_fingerprint(session) == usage_fingerprint(demo_session)


def test_needs_the_catalogue(session, demo_today):
    with pytest.raises(demo.DemoError, match=r"python -m bot\.services\.purchasing\.catalogue"):
        demo.load_demo(session, demo_today)


def test_docs_table_matches_the_code():
    assert demo.markdown_table() in DOCS.read_text(encoding="utf-8")


def test_cli_markdown(capsys):
    assert demo.main(["--markdown"]) == 0
    assert "| 79 12 34 |" in capsys.readouterr().out
