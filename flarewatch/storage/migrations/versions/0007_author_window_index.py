"""author window index: per-author aggregates of an incident window read no post rows

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        # author_activity and latest_negative_post read author and engagement of every post in
        # the window; from the index that is one range scan instead of a table row per post.
        batch_op.create_index(
            "ix_posts_brand_author_window",
            [
                "brand",
                "created_at",
                "author_id",
                "like_count",
                "repost_count",
                "reply_count",
                "quote_count",
            ],
            unique=False,
        )
    if op.get_bind().dialect.name == "sqlite":
        # Without statistics on the new index SQLite may drive the join-back from the posts.
        op.execute("PRAGMA analysis_limit=1000")
        op.execute("ANALYZE")


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_brand_author_window")
