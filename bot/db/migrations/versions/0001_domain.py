"""Domain tables: subscribers, offers, lines, balances, billing periods, usage, products,
eligibility, purchases, notifications.

Revision ID: 0001_domain
Revises:
Create Date: 2025-01-01

Written by hand to stay portable: enums are VARCHAR + CHECK (no PostgreSQL ENUM type to
create or drop), times are TIMESTAMP WITH TIME ZONE. Constraint names come from the naming
convention of bot.db.base (Alembic applies target_metadata's convention).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_domain"
down_revision = None
branch_labels = None
depends_on = None

PLAN_FAMILIES = ("liberte", "tourism_card", "forfait_bloque", "forfait_horaire", "forfait_m", "data_seul")


def str_enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("first_name", sa.String(80), nullable=False),
        sa.Column("last_name", sa.String(80), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
    )
    op.create_table(
        "offers",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("plan_family", str_enum("plan_family", *PLAN_FAMILIES), nullable=False),
        sa.Column("price_xpf", sa.Integer(), nullable=False),
        sa.Column("recurring", sa.Boolean(), nullable=False),
        sa.Column("credit_xpf", sa.Integer(), nullable=True),
        sa.Column("voice_seconds", sa.Integer(), nullable=True),
        sa.Column("sms", sa.Integer(), nullable=True),
        sa.Column("data_mb", sa.Integer(), nullable=True),
        sa.Column("voice_unlimited", sa.Boolean(), nullable=False),
        sa.Column("sms_unlimited", sa.Boolean(), nullable=False),
        sa.Column("data_unlimited", sa.Boolean(), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.String(300), nullable=True),
        sa.Column("is_sample", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_offers_plan_family", "offers", ["plan_family"])
    op.create_table(
        "lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("msisdn", sa.String(6), nullable=False, unique=True),
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey("subscribers.id"), nullable=False),
        sa.Column("plan_family", str_enum("plan_family", *PLAN_FAMILIES), nullable=False),
        sa.Column("offer_code", sa.String(40), sa.ForeignKey("offers.code"), nullable=False),
        sa.Column("status", str_enum("line_status", "active", "suspended"), nullable=False),
        sa.Column("activated_at", tz(), nullable=False),
    )
    op.create_index("ix_lines_subscriber_id", "lines", ["subscriber_id"])
    op.create_index("ix_lines_offer_code", "lines", ["offer_code"])
    line_fk = lambda: sa.ForeignKey("lines.id", ondelete="CASCADE")  # noqa: E731
    op.create_table(
        "balances",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("line_id", sa.Integer(), line_fk(), nullable=False),
        sa.Column("kind", str_enum("bucket_kind", "credit", "sms", "data", "voice"), nullable=False),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("initial", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("valid_until", tz(), nullable=True),
        sa.Column("updated_at", tz(), nullable=False),
    )
    op.create_index("ix_balances_line_kind", "balances", ["line_id", "kind"])
    op.create_table(
        "billing_periods",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("line_id", sa.Integer(), line_fk(), nullable=False),
        sa.Column("starts_at", tz(), nullable=False),
        sa.Column("ends_at", tz(), nullable=False),
        sa.Column("voice_seconds_allowance", sa.Integer(), nullable=True),
        sa.Column("sms_allowance", sa.Integer(), nullable=True),
        sa.Column("data_mb_allowance", sa.Integer(), nullable=True),
    )
    op.create_index("ix_billing_periods_line_start", "billing_periods", ["line_id", "starts_at"])
    op.create_table(
        "usage_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("line_id", sa.Integer(), line_fk(), nullable=False),
        sa.Column("occurred_at", tz(), nullable=False),
        sa.Column("kind", str_enum("usage_kind", "voice", "sms", "data"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("in_plan", sa.Boolean(), nullable=False),
        sa.Column("amount_xpf", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(120), nullable=False),
    )
    op.create_index("ix_usage_records_line_time", "usage_records", ["line_id", "occurred_at"])
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("type", str_enum("product_type", "RL", "IMD", "TOPUP"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("price_xpf", sa.Integer(), nullable=False),
        sa.Column("credit_xpf", sa.Integer(), nullable=False),
        sa.Column("sms", sa.Integer(), nullable=False),
        sa.Column("data_mb", sa.Integer(), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_sample", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_products_type", "products", ["type"])
    op.create_table(
        "product_eligibility",
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("plan_family", str_enum("plan_family", *PLAN_FAMILIES), primary_key=True),
        sa.Column("payment_source", str_enum("payment_source", "credit", "bill", "card"), nullable=False),
    )
    op.create_table(
        "purchases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("line_id", sa.Integer(), line_fk(), nullable=False),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("products.id"), nullable=False),
        sa.Column("product_type", str_enum("product_type", "RL", "IMD", "TOPUP"), nullable=False),
        sa.Column("price_xpf", sa.Integer(), nullable=False),
        sa.Column("payment_source", str_enum("payment_source", "credit", "bill", "card"), nullable=False),
        sa.Column(
            "status",
            str_enum("purchase_status", "pending", "succeeded", "failed", "cancelled", "expired"),
            nullable=False,
        ),
        # Unique but nullable: several NULLs are allowed on SQLite and PostgreSQL alike.
        sa.Column("idempotency_key", sa.String(80), nullable=True, unique=True),
        sa.Column("reference", sa.String(40), nullable=True, unique=True),
        sa.Column("failure_reason", sa.String(200), nullable=True),
        sa.Column("created_at", tz(), nullable=False),
        sa.Column("completed_at", tz(), nullable=True),
    )
    op.create_index("ix_purchases_line_created", "purchases", ["line_id", "created_at"])
    op.create_index("ix_purchases_product_id", "purchases", ["product_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("line_id", sa.Integer(), line_fk(), nullable=False),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        sa.Column("read_at", tz(), nullable=True),
    )
    op.create_index("ix_notifications_line_read", "notifications", ["line_id", "read_at"])


def downgrade() -> None:
    # Children before parents so foreign keys never block a drop.
    for table in (
        "notifications",
        "purchases",
        "product_eligibility",
        "products",
        "usage_records",
        "billing_periods",
        "balances",
        "lines",
        "offers",
        "subscribers",
    ):
        op.drop_table(table)
