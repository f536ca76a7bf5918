"""stream health: a streaming source's state and lag beside the polling counters

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_health", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stream_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("lag_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_health", schema=None) as batch_op:
        batch_op.drop_column("lag_seconds")
        batch_op.drop_column("stream_state")
