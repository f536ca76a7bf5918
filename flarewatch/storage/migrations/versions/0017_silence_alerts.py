"""silence alerts: the silent stretch of each feed already alerted, so each alerts once

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "silence_alerts",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("brand", sa.String(length=128), nullable=False),
        sa.Column("stretch_start", sa.DateTime(), nullable=False),
        sa.Column("silent_since", sa.DateTime(), nullable=False),
        sa.Column("usual_p95_seconds", sa.Float(), nullable=False),
        sa.Column("alerted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "brand"),
    )


def downgrade() -> None:
    op.drop_table("silence_alerts")
