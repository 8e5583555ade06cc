"""Identity tables: consents, messenger links, link challenges (OTP), security events,
lockouts, SMS outbox.

Revision ID: 0003_identity
Revises: 0002_messaging
Create Date: 2025-01-01

Written by hand, portable to SQLite and PostgreSQL: times are TIMESTAMP WITH TIME ZONE (UTC),
names follow the naming convention of bot.db.base so autogenerate finds no difference.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_identity"
down_revision = "0002_messaging"
branch_labels = None
depends_on = None


def tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def line_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("lines.id", ondelete="CASCADE", name=f"fk_{table}_line_id_lines")


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("psid", sa.String(64), nullable=False),
        sa.Column("cgu_version", sa.String(32), nullable=False),
        sa.Column("accepted_at", tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
        sa.UniqueConstraint("psid", "cgu_version", name="uq_consents_psid"),
    )
    op.create_index("ix_consents_psid", "consents", ["psid"])

    op.create_table(
        "messenger_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("psid", sa.String(64), nullable=False),
        sa.Column("line_id", sa.Integer(), line_fk("messenger_links"), nullable=False),
        sa.Column("linked_at", tz(), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messenger_links"),
        sa.UniqueConstraint("psid", name="uq_messenger_links_psid"),
    )
    op.create_index("ix_messenger_links_line_id", "messenger_links", ["line_id"])

    op.create_table(
        "link_challenges",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("psid", sa.String(64), nullable=False),
        sa.Column("msisdn", sa.String(6), nullable=False),
        sa.Column("line_id", sa.Integer(), line_fk("link_challenges"), nullable=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("send_count", sa.Integer(), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        sa.Column("last_sent_at", tz(), nullable=False),
        sa.Column("expires_at", tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_link_challenges"),
    )
    op.create_index("ix_link_challenges_psid", "link_challenges", ["psid"])
    op.create_index("ix_link_challenges_msisdn", "link_challenges", ["msisdn"])

    op.create_table(
        "link_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_link_events"),
    )
    op.create_index("ix_link_events_key_hash", "link_events", ["key_hash"])
    op.create_index("ix_link_events_created_at", "link_events", ["created_at"])

    op.create_table(
        "link_lockouts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("locked_until", tz(), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_link_lockouts"),
    )
    op.create_index("ix_link_lockouts_key_hash", "link_lockouts", ["key_hash"])

    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("msisdn", sa.String(6), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sms_outbox"),
    )
    op.create_index("ix_sms_outbox_msisdn", "sms_outbox", ["msisdn"])
    op.create_index("ix_sms_outbox_created_at", "sms_outbox", ["created_at"])


def downgrade() -> None:
    for table in ("sms_outbox", "link_lockouts", "link_events", "link_challenges", "messenger_links", "consents"):
        op.drop_table(table)
