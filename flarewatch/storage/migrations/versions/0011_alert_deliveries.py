"""alert deliveries: which destinations received each spike's alert

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spike_alert_deliveries",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["spike_events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id", "destination"),
    )


def downgrade() -> None:
    op.drop_table("spike_alert_deliveries")
