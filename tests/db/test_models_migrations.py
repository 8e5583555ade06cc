"""Schema tests: Alembic chain on SQLite and PostgreSQL, model ↔ migration agreement, constraints."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from bot.db import migrate
from bot.db.account import Line, Notification, Offer, PlanFamily, Subscriber
from bot.db.all_models import Base
from bot.db.purchasing import PaymentSource, Product, ProductType, Purchase

DOMAIN_TABLES = {
    "subscribers",
    "offers",
    "lines",
    "balances",
    "billing_periods",
    "usage_records",
    "products",
    "product_eligibility",
    "purchases",
    "notifications",
}


def tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_revision_ids_form_a_chain_starting_at_0001_domain():
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    base = scripts.get_revision("0001_domain")
    assert base.down_revision is None
    assert len(scripts.get_heads()) == 1  # linear: a second head means a broken down_revision


def test_upgrade_creates_the_domain_tables(db_url):
    assert tables(db_url) >= DOMAIN_TABLES
    assert migrate.current(db_url) == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


def test_indexes_used_by_queries(db_url):
    engine = create_engine(db_url, poolclass=pool.NullPool)
    insp = inspect(engine)
    index_cols = {t: {tuple(i["column_names"]) for i in insp.get_indexes(t)} for t in DOMAIN_TABLES}
    assert ("line_id", "occurred_at") in index_cols["usage_records"]
    assert ("line_id", "created_at") in index_cols["purchases"]
    assert ("line_id", "read_at") in index_cols["notifications"]
    assert ("line_id", "kind") in index_cols["balances"]
    uniques = {t: {tuple(u["column_names"]) for u in insp.get_unique_constraints(t)} for t in ("lines", "purchases")}
    assert ("msisdn",) in uniques["lines"] and ("idempotency_key",) in uniques["purchases"]
    engine.dispose()


def test_downgrade_to_base_then_upgrade_again(db_url):
    migrate.downgrade(db_url, "base")
    assert not (DOMAIN_TABLES & tables(db_url))
    migrate.upgrade(db_url)
    assert tables(db_url) >= DOMAIN_TABLES


def test_models_match_the_migration(db_url):
    """Autogenerate finds nothing to change on ANY table: every model module (bot.db.all_models)
    agrees with the whole migration chain, so each owner needs no copy of this check."""
    engine = create_engine(db_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diffs == []


def seed(session: Session) -> Line:
    session.add(Offer(code="T", name="Test", plan_family=PlanFamily.LIBERTE, price_xpf=1))
    sub = Subscriber(first_name="A", last_name="B")
    line = Line(msisdn="791234", subscriber=sub, plan_family=PlanFamily.LIBERTE, offer_code="T")
    product = Product(code="P", type=ProductType.RL, name="P", price_xpf=1000, credit_xpf=1050, validity_days=120)
    session.add_all([line, product])
    session.flush()
    return line


def purchase(line, product_id, key):
    return Purchase(
        line_id=line.id,
        product_id=product_id,
        product_type=ProductType.RL,
        price_xpf=1000,
        payment_source=PaymentSource.CARD,
        idempotency_key=key,
    )


def test_idempotency_key_is_unique_but_nullable(session):
    line = seed(session)
    pid = session.scalar(select(Product.id))
    session.add_all([purchase(line, pid, None), purchase(line, pid, None), purchase(line, pid, "k1")])
    session.commit()
    session.add(purchase(line, pid, "k1"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_msisdn_is_unique(session):
    seed(session)
    session.add(
        Line(
            msisdn="791234",
            subscriber=Subscriber(first_name="C", last_name="D"),
            plan_family=PlanFamily.LIBERTE,
            offer_code="T",
        )
    )
    with pytest.raises(IntegrityError):
        session.commit()


def test_check_constraint_rejects_unknown_family(session):
    seed(session)
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE lines SET plan_family = 'prepaye'"))
    session.rollback()
    with pytest.raises(StatementError):  # and the ORM refuses before the database does
        session.execute(select(Line).where(Line.plan_family == "prepaye")).all()


def test_enums_are_stored_as_readable_values(session):
    line = seed(session)
    session.commit()
    assert session.execute(text("SELECT plan_family, status FROM lines")).one() == ("liberte", "active")
    assert line.status == "active" and line.plan_family is PlanFamily.LIBERTE


def test_datetimes_come_back_aware_utc(session):
    line = seed(session)
    sent = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    session.add(Notification(line_id=line.id, title="t", body="b", created_at=sent))
    session.commit()
    session.expire_all()
    got = session.scalar(select(Notification.created_at))
    assert got == sent and got.tzinfo is not None


def test_naive_datetimes_are_refused(session):
    line = seed(session)
    session.add(Notification(line_id=line.id, title="t", body="b", created_at=datetime(2026, 3, 15, 12, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


# ------------------------------------------------------------------------- PostgreSQL


def test_postgres_domain_migration_catalogue_and_demo(pg_url):
    from bot.services.account.consultation import usage_reply
    from bot.services.account.history import purchases_reply
    from bot.services.purchasing.catalogue import sync_catalogue
    from bot.tools.demo import load_demo

    migrate.upgrade(pg_url)  # the ORM writes today's columns (subscribers.operator_ref since 0009)
    assert tables(pg_url) >= DOMAIN_TABLES
    engine = create_engine(pg_url, poolclass=pool.NullPool)
    with Session(engine) as session:
        sync_catalogue(session)
        load_demo(session, date(2026, 3, 15))
        session.commit()
        assert not sync_catalogue(session).changed
        load_demo(session, date(2026, 3, 15))  # idempotent on PostgreSQL too
        session.commit()
        line = session.scalar(select(Line).where(Line.msisdn == "874512"))
        now = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)
        assert "9,6 Go sur 10 Go" in usage_reply(session, line, now).text
        assert len(purchases_reply(session, line, now).cards) == 4
        dup = purchase(line, session.scalar(select(Product.id)), "same-key")
        session.add_all([dup])
        session.commit()
        session.add(purchase(line, dup.product_id, "same-key"))
        with pytest.raises(IntegrityError):
            session.commit()
    engine.dispose()
    migrate.downgrade(pg_url, "base")
    assert not (DOMAIN_TABLES & tables(pg_url))


def test_postgres_full_chain_upgrade_and_downgrade(pg_url):
    migrate.upgrade(pg_url)
    assert tables(pg_url) >= DOMAIN_TABLES
    migrate.downgrade(pg_url, "base")
    assert tables(pg_url) <= {"alembic_version"}


def test_all_models_exports_the_shared_base_with_every_domain_table():
    from bot.db import all_models, base

    assert all_models.Base is base.Base
    assert set(all_models.Base.metadata.tables) >= DOMAIN_TABLES
