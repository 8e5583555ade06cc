"""Delivery state of inbound events: retry after a Rasa outage, stored answer, sent-bubble cursor.

Revision ID: 0007_delivery
Revises: 0006_suspension
Create Date: 2026-11-27

Written by hand, portable to SQLite and PostgreSQL (batch mode for SQLite's ALTER TABLE limits).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_delivery"
down_revision = "0006_suspension"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_events") as batch:
        batch.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("apologised", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("replies_json", sa.Text(), nullable=True))
        batch.add_column(sa.Column("replies_sent", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("inbound_events") as batch:
        batch.drop_column("replies_sent")
        batch.drop_column("replies_json")
        batch.drop_column("apologised")
        batch.drop_column("not_before")
