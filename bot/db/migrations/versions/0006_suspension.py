"""Line suspensions asked from the chat (loss or theft).

Revision ID: 0006_suspension
Revises: 0005_handoff
Create Date: 2026-03-15

Written by hand, portable to SQLite and PostgreSQL; names follow bot.db.base's naming convention
so autogenerate finds no difference with bot/db/suspension.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_suspension"
down_revision = "0005_handoff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "line_suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("psid", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], ondelete="CASCADE", name="fk_line_suspensions_line_id_lines"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_line_suspensions"),
    )
    op.create_index("ix_line_suspensions_line_id_created_at", "line_suspensions", ["line_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_line_suspensions_line_id_created_at", table_name="line_suspensions")
    op.drop_table("line_suspensions")
