"""score progress: where each model's pending posts begin

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-29

`score_progress` keeps, per model version, an id below which every post is scored: a scorer's
pending query reads from there, not from the first post of the database. Empty here: the first
pass of each model finds its own start.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "score_progress",
        sa.Column("model_version", sa.String(length=256), nullable=False),
        sa.Column("scored_below", sa.BigInteger(), nullable=False),
        sa.Column("mark", sa.BigInteger(), nullable=True),
        sa.Column("mark_at", sa.DateTime(), nullable=True),
        sa.Column("swept_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("model_version"),
    )


def downgrade() -> None:
    op.drop_table("score_progress")
