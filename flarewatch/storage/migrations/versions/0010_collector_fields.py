"""collector fields: the quoted post of a quote and whether a post was taken down

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, never batch mode: rebuilding `posts` on SQLite drops the old table,
    # which cascades to every stored score.
    op.add_column("posts", sa.Column("quote_of", sa.String(length=128), nullable=True))
    op.add_column(
        "posts", sa.Column("removed", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    # Batch mode would rebuild `posts` on SQLite, and dropping the old table cascades to every
    # score; SQLite 3.35+ drops a plain column in place.
    for column in ("removed", "quote_of"):
        op.execute(sa.text(f"ALTER TABLE posts DROP COLUMN {column}"))
