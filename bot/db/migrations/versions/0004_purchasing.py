"""Purchasing tables: purchase quotes (the summary a user confirms) and card payment sessions.

Revision ID: 0004_purchasing
Revises: 0003_identity
Create Date: 2025-01-01

Written by hand, portable to SQLite and PostgreSQL: enums are VARCHAR + CHECK, times are
TIMESTAMP WITH TIME ZONE (UTC), names follow the naming convention of bot.db.base so that
autogenerate finds no difference with bot/db/purchasing.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_purchasing"
down_revision = "0003_identity"
branch_labels = None
depends_on = None


def str_enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "purchase_quotes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("psid", sa.String(64), nullable=False),
        sa.Column(
            "line_id",
            sa.Integer(),
            sa.ForeignKey("lines.id", ondelete="CASCADE", name="fk_purchase_quotes_line_id_lines"),
            nullable=False,
        ),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("products.id", name="fk_purchase_quotes_product_id_products"),
            nullable=False,
        ),
        sa.Column("product_type", str_enum("product_type", "RL", "IMD", "TOPUP"), nullable=False),
        sa.Column("price_xpf", sa.Integer(), nullable=False),
        sa.Column("payment_source", str_enum("payment_source", "credit", "bill", "card"), nullable=False),
        sa.Column(
            "status",
            str_enum("quote_status", "open", "confirmed", "cancelled", "expired", "superseded"),
            nullable=False,
        ),
        sa.Column("created_at", tz(), nullable=False),
        sa.Column("expires_at", tz(), nullable=False),
        sa.Column("decided_at", tz(), nullable=True),
        sa.Column(
            "purchase_id",
            sa.Integer(),
            sa.ForeignKey("purchases.id", ondelete="SET NULL", name="fk_purchase_quotes_purchase_id_purchases"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_purchase_quotes"),
        sa.UniqueConstraint("token", name="uq_purchase_quotes_token"),
        sa.UniqueConstraint("purchase_id", name="uq_purchase_quotes_purchase_id"),
    )
    op.create_index("ix_purchase_quotes_line_id", "purchase_quotes", ["line_id"])
    op.create_index("ix_purchase_quotes_psid_status", "purchase_quotes", ["psid", "status"])

    op.create_table(
        "payment_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column(
            "purchase_id",
            sa.Integer(),
            sa.ForeignKey("purchases.id", ondelete="CASCADE", name="fk_payment_sessions_purchase_id_purchases"),
            nullable=False,
        ),
        sa.Column("psid", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("amount_xpf", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            str_enum("payment_status", "pending", "approved", "declined", "abandoned", "expired", "cancelled"),
            nullable=False,
        ),
        sa.Column("provider_ref", sa.String(120), nullable=True),
        sa.Column("provider_url", sa.String(500), nullable=True),
        sa.Column("created_at", tz(), nullable=False),
        sa.Column("expires_at", tz(), nullable=False),
        sa.Column("completed_at", tz(), nullable=True),
        sa.Column("last_event_id", sa.String(120), nullable=True),
        sa.Column("notice_state", sa.String(16), nullable=True),
        sa.Column("notice_sent_at", tz(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_payment_sessions"),
        sa.UniqueConstraint("token", name="uq_payment_sessions_token"),
        sa.UniqueConstraint("purchase_id", name="uq_payment_sessions_purchase_id"),
    )
    op.create_index("ix_payment_sessions_status_expires", "payment_sessions", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_table("payment_sessions")
    op.drop_table("purchase_quotes")
