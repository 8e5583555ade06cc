"""The operator port: the embedded simulator's record of the writes it performed, by key, and the
operator's customer id of subscribers first met through the operator's API.

Revision ID: 0009_operator
Revises: 0008_dialogue_context
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_operator"
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
    with op.batch_alter_table("subscribers") as batch:  # batch: SQLite alters by copying the table
        batch.add_column(sa.Column("operator_ref", sa.String(60), nullable=True))
        batch.create_unique_constraint("uq_subscribers_operator_ref", ["operator_ref"])


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_constraint("uq_subscribers_operator_ref", type_="unique")
        batch.drop_column("operator_ref")
    op.drop_index("ix_operator_operations_line_id", table_name="operator_operations")
    op.drop_table("operator_operations")
