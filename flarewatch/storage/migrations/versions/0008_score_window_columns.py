"""score window columns: each score carries its post's brand, time, author and engagement

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WINDOW = ["created_at", "label", "author_id", "p_negative", "post_id", "engagement"]


def upgrade() -> None:
    with op.batch_alter_table("sentiment_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("brand", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("author_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("engagement", sa.Integer(), nullable=True))
    scores = sa.table(
        "sentiment_scores",
        sa.column("post_id"),
        sa.column("brand"),
        sa.column("created_at"),
        sa.column("author_id"),
    )
    posts = sa.table(
        "posts",
        sa.column("id"),
        sa.column("brand"),
        sa.column("created_at"),
        sa.column("author_id"),
    )
    op.execute(
        scores.update()
        .where(posts.c.id == scores.c.post_id)
        .values(brand=posts.c.brand, created_at=posts.c.created_at, author_id=posts.c.author_id)
    )
    with op.batch_alter_table("sentiment_scores", schema=None) as batch_op:
        batch_op.create_index("ix_scores_brand_window", ["model_version", "brand", *WINDOW])
        batch_op.create_index("ix_scores_window", ["model_version", *WINDOW])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA analysis_limit=1000")
        op.execute("ANALYZE")


def downgrade() -> None:
    with op.batch_alter_table("sentiment_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_scores_window")
        batch_op.drop_index("ix_scores_brand_window")
        batch_op.drop_column("engagement")
        batch_op.drop_column("author_id")
        batch_op.drop_column("created_at")
        batch_op.drop_column("brand")
