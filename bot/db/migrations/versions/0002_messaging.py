"""Messaging tables: inbound webhook events (dedup + durable queue) and outbound sends log.

Revision ID: 0002_messaging
Revises: 0001_domain
Create Date: 2025-01-01

Written by hand, portable to SQLite and PostgreSQL: ids are BIGINT on PostgreSQL and INTEGER on
SQLite (the only type SQLite auto-increments), times are TIMESTAMP WITH TIME ZONE (UTC), names
follow the naming convention of bot.db.base so autogenerate finds no difference.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_messaging"
down_revision = "0001_domain"
branch_labels = None
depends_on = None


def big_id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("sender_id", sa.String(64), nullable=False),
        sa.Column("recipient_id", sa.String(64), nullable=False),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("raw_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", tz(), nullable=False),
        sa.Column("claimed_at", tz(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("finished_at", tz(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_events"),
        sa.UniqueConstraint("dedup_key", name="uq_inbound_events_dedup_key"),
    )
    op.create_index("ix_inbound_events_status_id", "inbound_events", ["status", "id"])
    op.create_index("ix_inbound_events_sender_id_id", "inbound_events", ["sender_id", "id"])
    op.create_table(
        "outbound_messages",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("inbound_event_id", big_id(), nullable=True),
        sa.Column("recipient_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("messaging_type", sa.String(32), nullable=True),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_subcode", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbound_messages"),
        sa.ForeignKeyConstraint(
            ["inbound_event_id"],
            ["inbound_events.id"],
            ondelete="SET NULL",
            name="fk_outbound_messages_inbound_event_id_inbound_events",
        ),
    )
    op.create_index("ix_outbound_messages_inbound_event_id", "outbound_messages", ["inbound_event_id"])
    op.create_index("ix_outbound_messages_recipient_id", "outbound_messages", ["recipient_id"])


def downgrade() -> None:
    op.drop_index("ix_outbound_messages_recipient_id", table_name="outbound_messages")
    op.drop_index("ix_outbound_messages_inbound_event_id", table_name="outbound_messages")
    op.drop_table("outbound_messages")
    op.drop_index("ix_inbound_events_sender_id_id", table_name="inbound_events")
    op.drop_index("ix_inbound_events_status_id", table_name="inbound_events")
    op.drop_table("inbound_events")
