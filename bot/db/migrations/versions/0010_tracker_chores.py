"""Tracker chores (erasing a conversation, masking a code in Rasa's store) kept until done.

Revision ID: 0010_tracker_chores
Revises: 0009_operator
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_tracker_chores"
down_revision = "0009_operator"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracker_chores",
        sa.Column("psid", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
    )
    op.create_index("ix_tracker_chores_next_try_at", "tracker_chores", ["next_try_at"])


def downgrade() -> None:
    op.drop_index("ix_tracker_chores_next_try_at", table_name="tracker_chores")
    op.drop_table("tracker_chores")
