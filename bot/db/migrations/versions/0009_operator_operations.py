"""The embedded operator simulator's record of the writes it performed, by key.

Revision ID: 0009_operator_operations
Revises: 0008_dialogue_context
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_operator_operations"
down_revision = "0008_dialogue_context"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_operations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(80), nullable=False, unique=True),
        sa.Column("line_id", sa.Integer(), sa.ForeignKey("lines.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_operator_operations_line_id", "operator_operations", ["line_id"])


def downgrade() -> None:
    op.drop_index("ix_operator_operations_line_id", table_name="operator_operations")
    op.drop_table("operator_operations")
