"""incident authors: each author's scored posts per incident window, what Outreach ranks

Revision ID: 0021
Revises: 0019
Create Date: 2026-11-29

`incident_authors` holds one row per incident, model and author (counts under the model's
labels, the author's platform and followers), filled here from the scores in each incident's
window (a day before it opened to a day after it resolved) and kept in step from then on.
An index on the scores' author finds an author's newest post again when one of theirs goes.
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None

DAY = timedelta(hours=24)
# The outreach priority without recency, at the default weights (analysis.outreach).
BASE_PRIORITY = (
    "100 * (0.35 * (CASE WHEN posts > 0 THEN p_negative_sum / posts ELSE 0 END) + "
    "0.25 * (CASE WHEN negative_posts <= 0 THEN 0 WHEN negative_posts >= 5 THEN 1 "
    "ELSE ln(1 + negative_posts) / 1.791759469228055 END) + 0.2 * (CASE WHEN "
    "coalesce(followers, 0) <= 0 THEN 0 WHEN coalesce(followers, 0) >= 999999 THEN 1 "
    "ELSE log10(1 + coalesce(followers, 0)) / 6.0 END) + 0.1 * (CASE WHEN engagement "
    "<= 0 THEN 0 WHEN engagement >= 100 THEN 1 ELSE ln(1 + engagement) / "
    "4.61512051684126 END)) "
)
RECOUNT = """
INSERT INTO incident_authors (incident_id, model_version, author_id, platform, followers, posts,
                              negative_posts, p_negative_sum, engagement, last_post_at)
SELECT :incident, s.model_version, s.author_id, min(a.platform), min(a.followers),
       count(CASE WHEN s.label <> 'other_language' THEN 1 END),
       count(CASE WHEN s.label = 'negative' THEN 1 END),
       coalesce(sum(CASE WHEN s.label <> 'other_language' THEN s.p_negative END), 0),
       coalesce(sum(CASE WHEN s.label <> 'other_language' THEN s.engagement END), 0),
       max(CASE WHEN s.label <> 'other_language' THEN s.created_at END)
FROM sentiment_scores s JOIN authors a ON a.id = s.author_id
WHERE s.created_at >= :start AND (:end IS NULL OR s.created_at < :end)
  AND (:brand IS NULL OR s.brand = :brand)
GROUP BY s.model_version, s.author_id
"""


def upgrade() -> None:
    op.create_table(
        "incident_authors",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=256), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("followers", sa.Integer(), nullable=True),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("negative_posts", sa.Integer(), nullable=False),
        sa.Column("p_negative_sum", sa.Float(), nullable=False),
        sa.Column("engagement", sa.BigInteger(), nullable=False),
        sa.Column("last_post_at", sa.DateTime(), nullable=True),
        sa.Column("base_priority", sa.Float(), sa.Computed(BASE_PRIORITY, persisted=True)),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "model_version", "author_id"),
    )
    op.create_index(
        "ix_incident_authors_base",
        "incident_authors",
        ["incident_id", "model_version", "base_priority"],
    )
    unhappy = sa.text("negative_posts >= 1")
    op.create_index(
        "ix_incident_authors_unhappy",
        "incident_authors",
        ["incident_id", "model_version", "platform", "author_id"],
        postgresql_where=unhappy,
        sqlite_where=unhappy,
    )
    op.create_index(
        "ix_scores_author",
        "sentiment_scores",
        ["author_id", "model_version", "brand", "created_at", "label"],
    )
    incidents = sa.table(
        "incidents",
        sa.column("id", sa.Integer()),
        sa.column("brand", sa.String()),
        sa.column("opened_at", sa.DateTime()),
        sa.column("resolved_at", sa.DateTime()),
    )
    bind = op.get_bind()
    recount = sa.text(RECOUNT).bindparams(
        sa.bindparam("start", type_=sa.DateTime()),
        sa.bindparam("end", type_=sa.DateTime()),
        sa.bindparam("brand", type_=sa.String()),
    )
    for incident, brand, opened_at, resolved_at in bind.execute(sa.select(incidents)).all():
        end = None if resolved_at is None else resolved_at + DAY
        bind.execute(
            recount,
            {"incident": incident, "brand": brand, "start": opened_at - DAY, "end": end},
        )


def downgrade() -> None:
    op.drop_index("ix_scores_author", table_name="sentiment_scores")
    op.drop_table("incident_authors")
