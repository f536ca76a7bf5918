"""facet rollups: posts per brand, 15 minutes, platform and language, and each model's labels too

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29

`post_buckets` counts posts (with their newest post and collection time) and `facet_buckets`
each model's labels per brand, 15-minute bucket, platform and language. Both are filled here from
the stored rows in one pass each and kept in step from then on: the breakdowns by platform and
language and the sources' activity read them instead of every post of their window.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

ROLLUP_SECONDS = 900
NO_LANGUAGE_KEY = "(no language tag)"
BUCKET = {
    "postgresql": f"(floor(date_part('epoch', {{0}}) / {ROLLUP_SECONDS}) * {ROLLUP_SECONDS})::bigint",
    "sqlite": f"(CAST(strftime('%s', {{0}}) AS INTEGER) / {ROLLUP_SECONDS}) * {ROLLUP_SECONDS}",
}


def _key_columns() -> list[sa.Column]:
    return [
        sa.Column("brand", sa.String(length=128), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "post_buckets",
        *_key_columns(),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("last_created_at", sa.DateTime(), nullable=False),
        sa.Column("last_collected_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("brand", "bucket", "platform", "language"),
    )
    op.create_index("ix_post_buckets_bucket", "post_buckets", ["bucket"])
    op.create_table(
        "facet_buckets",
        sa.Column("model_version", sa.String(length=256), nullable=False),
        *_key_columns(),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "model_version", "brand", "bucket", "platform", "language", "label"
        ),
    )
    bucket = BUCKET[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO post_buckets (brand, bucket, platform, language, posts, last_created_at,"
        " last_collected_at) "
        f"SELECT coalesce(brand, ''), {bucket.format('created_at')}, platform,"
        f" coalesce(language, '{NO_LANGUAGE_KEY}'), count(*), max(created_at), max(collected_at) "
        "FROM posts WHERE created_at IS NOT NULL GROUP BY 1, 2, 3, 4"
    )
    op.execute(
        "INSERT INTO facet_buckets (model_version, brand, bucket, platform, language, label, posts) "
        f"SELECT s.model_version, coalesce(s.brand, ''), {bucket.format('s.created_at')},"
        f" p.platform, coalesce(p.language, '{NO_LANGUAGE_KEY}'), s.label, count(*) "
        "FROM sentiment_scores s JOIN posts p ON p.id = s.post_id "
        "WHERE s.created_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6"
    )


def downgrade() -> None:
    op.drop_table("facet_buckets")
    op.drop_index("ix_post_buckets_bucket", table_name="post_buckets")
    op.drop_table("post_buckets")
