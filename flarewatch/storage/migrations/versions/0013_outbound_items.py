"""own posts, closed incidents and outbound items (updates, replies, follow-ups)

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, never batch mode: rebuilding `posts` on SQLite drops the old table,
    # which cascades to every stored score.
    op.add_column(
        "posts", sa.Column("is_own", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_index(
        "ix_posts_own",
        "posts",
        ["brand", "created_at"],
        sqlite_where=sa.text("is_own = 1"),
        postgresql_where=sa.text("is_own = true"),
    )
    op.add_column("incidents", sa.Column("closed_at", sa.DateTime(), nullable=True))
    op.add_column("incidents", sa.Column("dark_alerted_since", sa.DateTime(), nullable=True))
    op.create_table(
        "outbound_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=256), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey("incidents.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=True),
        sa.Column("reply_to", sa.String(length=256), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("remote_id", sa.String(length=256), nullable=True),
        sa.Column("remote_ids", sa.JSON(), nullable=True),
        sa.Column("url", sa.String(length=1024), nullable=True),
        sa.Column("drafted_by", sa.String(length=128), nullable=True),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.UniqueConstraint("idempotency_key", name="uq_outbound_idempotency"),
    )
    op.create_index("ix_outbound_incident", "outbound_items", ["incident_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbound_incident", table_name="outbound_items")
    op.drop_table("outbound_items")
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+): a batch copy would drop and recreate posts,
    # and dropping it cascades to every score.
    op.drop_index("ix_posts_own", table_name="posts")
    for table, column in (
        ("incidents", "dark_alerted_since"),
        ("incidents", "closed_at"),
        ("posts", "is_own"),
    ):
        op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
