"""What the assistant did with each message (review queue, dashboard) and the staff's accounts.

Revision ID: 0013_insights_staff
Revises: 0012_conversation_language
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_insights_staff"
down_revision = "0012_conversation_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insight_turns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("psid", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("intent", sa.String(64)),
        sa.Column("confidence", sa.Float),
        sa.Column("faq_key", sa.String(100)),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("answer_ms", sa.Integer),
        sa.Column("review_reason", sa.String(24)),
        sa.Column("text_masked", sa.String(300)),
        sa.Column("did", sa.String(300)),
        sa.Column("review_status", sa.String(16)),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.Column("attached_to", sa.String(100)),
        sa.Column("feedback_topic", sa.String(100)),
        sa.Column("rating", sa.String(8)),
        sa.Column("rated_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_insight_turns_at", "insight_turns", ["at"])
    op.create_index("ix_insight_turns_review", "insight_turns", ["review_status", "at"])
    op.create_index("ix_insight_turns_psid_at", "insight_turns", ["psid", "at"])
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("staff_accounts")
    op.drop_index("ix_insight_turns_psid_at", "insight_turns")
    op.drop_index("ix_insight_turns_review", "insight_turns")
    op.drop_index("ix_insight_turns_at", "insight_turns")
    op.drop_table("insight_turns")
