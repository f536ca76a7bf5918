"""dashboard indexes: newest score, covered score joins, covered window scans of posts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sentiment_scores", schema=None) as batch_op:
        # latest_model_version: the newest score without sorting every score.
        batch_op.create_index("ix_scores_scored_at", ["scored_at"], unique=False)
        # Window joins read label and p_negative from the index, not a table row per post.
        batch_op.create_index(
            "ix_scores_post_model_label",
            ["post_id", "model_version", "label", "p_negative"],
            unique=False,
        )
    # Wider replacements of (brand, created_at) and (created_at): the same prefixes, so every
    # old use stays, and breakdowns and platform activity no longer fetch table rows.
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_posts_brand_window", ["brand", "created_at", "platform", "language"], unique=False
        )
        batch_op.create_index(
            "ix_posts_created_platform", ["created_at", "platform", "collected_at"], unique=False
        )
        batch_op.drop_index("ix_posts_brand_created")
        batch_op.drop_index("ix_posts_created")
    if op.get_bind().dialect.name == "sqlite":
        # Without statistics SQLite prefers the unique (post_id, model_version) index, which
        # is not covering; a sampled ANALYZE lets it see the covering one is as selective.
        op.execute("PRAGMA analysis_limit=1000")
        op.execute("ANALYZE")


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index("ix_posts_created", ["created_at"], unique=False)
        batch_op.create_index("ix_posts_brand_created", ["brand", "created_at"], unique=False)
        batch_op.drop_index("ix_posts_created_platform")
        batch_op.drop_index("ix_posts_brand_window")
    with op.batch_alter_table("sentiment_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_scores_post_model_label")
        batch_op.drop_index("ix_scores_scored_at")
