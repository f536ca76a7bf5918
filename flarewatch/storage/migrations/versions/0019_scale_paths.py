"""scale paths: score rollups per 15 minutes; the brand window index carries post ids on PostgreSQL

Revision ID: 0019
Revises: 0017
Create Date: 2026-11-29

`score_buckets` counts each model's labels per brand and 15-minute bucket, filled here from the
stored scores and kept in step with them from then on: timelines read it instead of every score.

A breakdown joins the window's posts to their scores. With the ids in the index PostgreSQL reads
both sides index-only and hash-joins them instead of probing the scores once per post. SQLite
indexes always carry the row id: nothing changes there.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = ["brand", "created_at", "platform", "language"]
ROLLUP_SECONDS = 900
BUCKET = {
    "postgresql": f"(floor(date_part('epoch', created_at) / {ROLLUP_SECONDS}) * {ROLLUP_SECONDS})::bigint",
    "sqlite": f"(CAST(strftime('%s', created_at) AS INTEGER) / {ROLLUP_SECONDS}) * {ROLLUP_SECONDS}",
}


def upgrade() -> None:
    op.create_table(
        "score_buckets",
        sa.Column("model_version", sa.String(length=256), nullable=False),
        sa.Column("brand", sa.String(length=128), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("model_version", "brand", "bucket", "label"),
    )
    dialect = op.get_bind().dialect.name
    op.execute(
        "INSERT INTO score_buckets (model_version, brand, bucket, label, posts) "
        f"SELECT model_version, coalesce(brand, ''), {BUCKET[dialect]}, label, count(*) "
        "FROM sentiment_scores WHERE created_at IS NOT NULL GROUP BY 1, 2, 3, 4"
    )
    if dialect != "postgresql":
        return
    op.drop_index("ix_posts_brand_window", table_name="posts")
    op.create_index("ix_posts_brand_window", "posts", COLUMNS, postgresql_include=["id"])


def downgrade() -> None:
    op.drop_table("score_buckets")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_posts_brand_window", table_name="posts")
    op.create_index("ix_posts_brand_window", "posts", COLUMNS)
