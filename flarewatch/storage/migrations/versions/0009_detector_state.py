"""detector state: what the online spike detector decided, per brand and bucket width

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "detector_states",
        sa.Column("brand", sa.String(length=128), nullable=False),
        sa.Column("bucket_minutes", sa.Integer(), nullable=False),
        sa.Column("last_bucket", sa.DateTime(), nullable=True),
        sa.Column("expected", sa.Float(), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["spike_events.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("brand", "bucket_minutes"),
    )


def downgrade() -> None:
    op.drop_table("detector_states")
