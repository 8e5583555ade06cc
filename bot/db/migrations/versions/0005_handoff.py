"""Hand-off tables: escalations, agents' messages, thread ownership per PSID.

Revision ID: 0005_handoff
Revises: 0004_purchasing
Create Date: 2025-01-01

Written by hand, portable to SQLite and PostgreSQL: times are TIMESTAMP WITH TIME ZONE (UTC),
names follow the naming convention of bot.db.base so autogenerate finds no difference.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_handoff"
down_revision = "0004_purchasing"
branch_labels = None
depends_on = None


def tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("psid", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("line_masked", sa.String(16), nullable=True),
        sa.Column("last_intents", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("user_message", sa.Text(), nullable=True),
        sa.Column("pass_pending", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(255), nullable=True),
        sa.Column("created_at", tz(), nullable=False),
        sa.Column("taken_at", tz(), nullable=True),
        sa.Column("closed_at", tz(), nullable=True),
        sa.Column("closed_by", sa.String(24), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_escalations"),
    )
    op.create_index("ix_escalations_psid_status", "escalations", ["psid", "status"])
    op.create_index("ix_escalations_status", "escalations", ["status"])

    op.create_table(
        "escalation_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("psid", sa.String(64), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", tz(), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            ondelete="CASCADE",
            name="fk_escalation_messages_escalation_id_escalations",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_escalation_messages"),
    )
    op.create_index("ix_escalation_messages_escalation_id", "escalation_messages", ["escalation_id"])

    op.create_table(
        "thread_states",
        sa.Column("psid", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(8), nullable=False),
        sa.Column("since", tz(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("awaiting_message_until", tz(), nullable=True),
        sa.Column("pending_greeting", sa.String(16), nullable=True),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            ondelete="SET NULL",
            name="fk_thread_states_escalation_id_escalations",
        ),
        sa.PrimaryKeyConstraint("psid", name="pk_thread_states"),
    )


def downgrade() -> None:
    for table in ("thread_states", "escalation_messages", "escalations"):
        op.drop_table(table)
