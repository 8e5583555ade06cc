"""The language each Messenger user is answered in.

Revision ID: 0012_conversation_language
Revises: 0011_alerts
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_conversation_language"
down_revision = "0011_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_languages",
        sa.Column("psid", sa.String(64), primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column(
            "source",
            sa.Enum("chosen", "detected", name="language_source", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversation_languages")
