"""outreach replies and helpdesk tickets: what we answered, where, and the tickets handed off

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outreach_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "author_id",
            sa.Integer(),
            sa.ForeignKey("authors.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("replied_to", sa.String(256), nullable=False),
        sa.Column("replied_url", sa.String(1024)),
        sa.Column("replied_at", sa.DateTime()),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("remote_id", sa.String(256)),
        sa.Column("url", sa.String(1024)),
        sa.Column("sender", sa.String(128)),
        sa.Column("approved_by", sa.String(128)),
        sa.Column("sent_at", sa.DateTime()),
        sa.Column("error", sa.Text()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("platform", "replied_to", name="uq_outreach_replies_post"),
    )
    op.create_index(
        "ix_outreach_replies_incident", "outreach_replies", ["incident_id", "author_id"]
    )
    op.create_table(
        "outreach_tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("helpdesk", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("author_ids", sa.JSON(), nullable=False),
        sa.Column("ticket_id", sa.String(128)),
        sa.Column("url", sa.String(1024)),
        sa.Column("status", sa.String(32)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("helpdesk", "incident_id", "scope", name="uq_outreach_tickets_scope"),
    )


def downgrade() -> None:
    op.drop_table("outreach_tickets")
    op.drop_index("ix_outreach_replies_incident", table_name="outreach_replies")
    op.drop_table("outreach_replies")
