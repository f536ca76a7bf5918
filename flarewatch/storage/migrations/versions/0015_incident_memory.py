"""incident memory: post-mortems, follow-ups, roles and kind, fingerprints, search index, alert feedback

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

PG_SEARCH = """
CREATE TABLE incident_search (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
    brand VARCHAR(128),
    title TEXT NOT NULL DEFAULT '',
    postmortem TEXT NOT NULL DEFAULT '',
    themes TEXT NOT NULL DEFAULT '',
    document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', postmortem), 'B')
        || setweight(to_tsvector('english', themes), 'C')
    ) STORED
)
"""
SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE incident_search USING fts5("
    "incident_id UNINDEXED, brand UNINDEXED, title, postmortem, themes, "
    "tokenize='porter unicode61')"
)


def _incident_columns() -> list[sa.Column]:
    return [
        sa.Column("kind", sa.String(16), nullable=False, server_default="service"),
        sa.Column("commander", sa.String(256), nullable=True),
        sa.Column("comms_lead", sa.String(256), nullable=True),
        sa.Column("archived_at", sa.DateTime(), nullable=True),
        sa.Column("first_update_at", sa.DateTime(), nullable=True),
        sa.Column("fingerprint", sa.LargeBinary(), nullable=True),
        sa.Column("fingerprint_terms", sa.JSON(), nullable=True),
        sa.Column("fingerprint_model", sa.String(256), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        for column in _incident_columns():
            batch_op.add_column(column)
    with op.batch_alter_table("spike_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matches", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("feedback", sa.String(8), nullable=True))
    op.create_table(
        "postmortems",
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("fix", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "postmortem_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_postmortem_entries_incident", "postmortem_entries", ["incident_id", "at"])
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(256), nullable=True),
        sa.Column("due", sa.DateTime(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_follow_ups_incident", "follow_ups", ["incident_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_SEARCH)
        op.execute(
            "CREATE INDEX ix_incident_search_document ON incident_search USING GIN (document)"
        )
    else:
        op.execute(SQLITE_SEARCH)
    op.execute(
        "INSERT INTO incident_search (incident_id, brand, title, postmortem, themes) "
        "SELECT id, brand, title, '', '' FROM incidents"
    )


def downgrade() -> None:
    op.execute("DROP TABLE incident_search")
    op.drop_index("ix_follow_ups_incident", "follow_ups")
    op.drop_table("follow_ups")
    op.drop_index("ix_postmortem_entries_incident", "postmortem_entries")
    op.drop_table("postmortem_entries")
    op.drop_table("postmortems")
    with op.batch_alter_table("spike_events", schema=None) as batch_op:
        batch_op.drop_column("feedback")
        batch_op.drop_column("matches")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        for column in reversed(_incident_columns()):
            batch_op.drop_column(column.name)
