"""What the assistant last asked each user (dialogue context, with an expiry).

Revision ID: 0008_dialogue_context
Revises: 0007_delivery
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_dialogue_context"
down_revision = "0007_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dialogue_contexts",
        sa.Column("psid", sa.String(64), primary_key=True),
        sa.Column("context_json", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dialogue_contexts_expires_at", "dialogue_contexts", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_dialogue_contexts_expires_at", table_name="dialogue_contexts")
    op.drop_table("dialogue_contexts")
