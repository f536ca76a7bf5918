"""posts window ids: the brand window index also carries post ids on PostgreSQL

Revision ID: 0019
Revises: 0017
Create Date: 2026-11-29

A breakdown joins the window's posts to their scores. With the ids in the index PostgreSQL reads
both sides index-only and hash-joins them instead of probing the scores once per post. SQLite
indexes always carry the row id: nothing changes there.
"""

from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = ["brand", "created_at", "platform", "language"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_posts_brand_window", table_name="posts")
    op.create_index("ix_posts_brand_window", "posts", COLUMNS, postgresql_include=["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_posts_brand_window", table_name="posts")
    op.create_index("ix_posts_brand_window", "posts", COLUMNS)
