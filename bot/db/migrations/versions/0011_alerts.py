"""Opt-in alerts: subscriptions, delivery choices, each crossing detected, the utility templates.

Revision ID: 0011_alerts
Revises: 0010_tracker_chores
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_alerts"
down_revision = "0010_tracker_chores"
branch_labels = None
depends_on = None

KINDS = ("low_credit", "expiry", "data_usage", "out_of_plan", "card_purchase")
STATES = ("pending", "sending", "sent", "suppressed", "failed")


def str_enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_subscriptions",
        sa.Column("psid", sa.String(64), primary_key=True),
        sa.Column("kind", str_enum("alert_kind", *KINDS), primary_key=True),
        sa.Column("line_id", sa.Integer(), sa.ForeignKey("lines.id", ondelete="CASCADE"), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("created_at", tz(), nullable=False),
    )
    op.create_index("ix_alert_subscriptions_line_id", "alert_subscriptions", ["line_id"])
    op.create_table(
        "alert_profiles",
        sa.Column("psid", sa.String(64), primary_key=True),
        sa.Column("night_ok", sa.Boolean(), nullable=False),
        sa.Column("updated_at", tz(), nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("psid", sa.String(64), nullable=False),
        sa.Column("line_id", sa.Integer(), sa.ForeignKey("lines.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", str_enum("alert_kind", *KINDS), nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("state", str_enum("alert_state", *STATES), nullable=False),
        sa.Column("reason", sa.String(24), nullable=True),
        sa.Column("detected_at", tz(), nullable=False),
        sa.Column("send_after", tz(), nullable=False),
        sa.Column("claimed_at", tz(), nullable=True),
        sa.Column("sent_at", tz(), nullable=True),
        sa.Column("rearmed_at", tz(), nullable=True),
        sa.Column("followed_at", tz(), nullable=True),
    )
    op.create_index("ix_alerts_state_send_after", "alerts", ["state", "send_after"])
    op.create_index("ix_alerts_psid_sent_at", "alerts", ["psid", "sent_at"])
    op.create_table(
        "alert_templates",
        sa.Column("name", sa.String(512), primary_key=True),
        sa.Column("language", sa.String(16), primary_key=True),
        sa.Column("remote_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("updated_at", tz(), nullable=False),
    )
    op.create_index("ix_alert_templates_remote_id", "alert_templates", ["remote_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_templates_remote_id", table_name="alert_templates")
    op.drop_table("alert_templates")
    op.drop_index("ix_alerts_psid_sent_at", table_name="alerts")
    op.drop_index("ix_alerts_state_send_after", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_profiles")
    op.drop_index("ix_alert_subscriptions_line_id", table_name="alert_subscriptions")
    op.drop_table("alert_subscriptions")
