"""Typed SQLAlchemy 2 schema: posts, authors, scores, incidents, outreach and collector state."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from flarewatch.domain import (
    ENGAGEMENT_SATURATES,
    REACH_SATURATES,
    REPETITION_SATURATES,
    PriorityWeights,
)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store naive UTC, hand back aware UTC, on every backend alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Flarewatch stores only aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every Flarewatch table."""


class Author(Base):
    """A social-media account that posted about a watched brand (public profile data only)."""

    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_authors_platform_ext"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    handle: Mapped[str | None] = mapped_column(String(256))
    display_name: Mapped[str | None] = mapped_column(String(512))
    followers: Mapped[int | None] = mapped_column(Integer)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Post(Base):
    """One public post that mentions a watched brand."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("platform", "external_id", name="uq_posts_platform_ext"),
        # With the ids (SQLite indexes hold them anyway) a window's posts hash-join their scores
        # index-only on PostgreSQL.
        Index(
            "ix_posts_brand_window",
            "brand",
            "created_at",
            "platform",
            "language",
            postgresql_include=["id"],
        ),
        Index("ix_posts_created_platform", "created_at", "platform", "collected_at"),
        Index("ix_posts_author", "author_id"),
        Index(
            "ix_posts_brand_author_window",
            "brand",
            "created_at",
            "author_id",
            "like_count",
            "repost_count",
            "reply_count",
            "quote_count",
        ),
        # Our own posts are few: a partial index finds them without touching anyone else's.
        Index(
            "ix_posts_own",
            "brand",
            "created_at",
            sqlite_where=sql_text("is_own = 1"),
            postgresql_where=sql_text("is_own = true"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"))
    brand: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    url: Mapped[str | None] = mapped_column(String(1024))
    language: Mapped[str | None] = mapped_column(String(16))
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    repost_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    quote_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_to: Mapped[str | None] = mapped_column(String(128))
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quote_of: Mapped[str | None] = mapped_column(String(128))
    removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_own: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


# What window queries read from a score, after model version (and brand): the covering index.
SCORE_WINDOW_COLUMNS = ("created_at", "label", "author_id", "p_negative", "post_id", "engagement")


class SentimentScore(Base):
    """A model's sentiment for one post; one row per (post, model version)."""

    __tablename__ = "sentiment_scores"
    __table_args__ = (
        UniqueConstraint("post_id", "model_version", name="uq_scores_post_model"),
        Index("ix_scores_model_label", "model_version", "label"),
        Index("ix_scores_scored_at", "scored_at"),
        Index("ix_scores_post_model_label", "post_id", "model_version", "label", "p_negative"),
        Index("ix_scores_brand_window", "model_version", "brand", *SCORE_WINDOW_COLUMNS),
        Index("ix_scores_window", "model_version", *SCORE_WINDOW_COLUMNS),
        # An author's newest post in an incident, again after one of their scores went away.
        Index("ix_scores_author", "author_id", "model_version", "brand", "created_at", "label"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    model_version: Mapped[str] = mapped_column(String(256))
    label: Mapped[str] = mapped_column(String(16))
    p_negative: Mapped[float] = mapped_column(Float)
    p_neutral: Mapped[float] = mapped_column(Float)
    p_positive: Mapped[float] = mapped_column(Float)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Copies of the post's brand, time and author (none of which a post ever changes) and of its
    # engagement (refreshed when the post is collected again), so that a window's counts and
    # per-author totals read one index range instead of a join per post.
    brand: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(Integer)
    engagement: Mapped[int | None] = mapped_column(Integer)


# Scores are rolled up per 15 minutes: every timeline bucket width the pages use is a multiple.
ROLLUP_SECONDS = 900


class ScoreBucket(Base):
    """How many posts a model gave each label, per brand and 15-minute bucket of post time.

    Kept in the same transaction as every change to the scores, so a timeline reads a few
    thousand of these rows instead of every score in its window.
    """

    __tablename__ = "score_buckets"

    model_version: Mapped[str] = mapped_column(String(256), primary_key=True)
    # '' for posts without a brand: a key column cannot be NULL.
    brand: Mapped[str] = mapped_column(String(128), primary_key=True)
    # Start of the bucket, epoch seconds (UTC).
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    label: Mapped[str] = mapped_column(String(16), primary_key=True)
    posts: Mapped[int] = mapped_column(Integer)


# A post's language in the facet rollups when it has none: longer than `Post.language` can hold,
# so it never stands for a real tag (a key column cannot be NULL, and '' is a tag one may store).
NO_LANGUAGE_KEY = "(no language tag)"


class PostBucket(Base):
    """How many posts were created per brand, 15-minute bucket, platform and language.

    Kept in the same transaction as every post insert and language change (posts are never
    deleted), so breakdowns and source activity read these rows instead of every post.
    """

    __tablename__ = "post_buckets"
    __table_args__ = (Index("ix_post_buckets_bucket", "bucket"),)

    # '' for posts without a brand, as in `score_buckets`.
    brand: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    language: Mapped[str] = mapped_column(String(32), primary_key=True)
    posts: Mapped[int] = mapped_column(Integer)
    # Newest post and collection time in the bucket: neither ever changes once a post is stored.
    last_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_collected_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FacetBucket(Base):
    """`score_buckets` split further by the post's platform and language, for the breakdowns."""

    __tablename__ = "facet_buckets"

    model_version: Mapped[str] = mapped_column(String(256), primary_key=True)
    brand: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    language: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(16), primary_key=True)
    posts: Mapped[int] = mapped_column(Integer)


class ScoreProgress(Base):
    """How far one model's scoring has got: every post below `scored_below` has its score.

    The scorers' pending queries start there instead of reading every post of the database.
    `mark` is the next post id as of `mark_at`: once every transaction that began before then
    has ended, no post below it can still appear, and the progress may pass it.
    """

    __tablename__ = "score_progress"

    model_version: Mapped[str] = mapped_column(String(256), primary_key=True)
    scored_below: Mapped[int] = mapped_column(BigInteger, default=0)
    mark: Mapped[int | None] = mapped_column(BigInteger)
    mark_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    swept_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScoreClaim(Base):
    """A scoring worker's leased claim on one post for one model version."""

    __tablename__ = "score_claims"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    model_version: Mapped[str] = mapped_column(String(256), primary_key=True)
    worker: Mapped[str] = mapped_column(String(128))
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)


class Incident(Base):
    """An incident a brand is going through, open until resolved."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(512))
    brand: Mapped[str | None] = mapped_column(String(128))
    brand_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(4), default="SEV3")
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16), default="service", server_default="service")
    commander: Mapped[str | None] = mapped_column(String(256))
    comms_lead: Mapped[str | None] = mapped_column(String(256))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the first public status update went out (Statuspage), for "who noticed first".
    first_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Mean embedding (float32 bytes) and top terms of its negative posts: "seen this before?".
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)
    fingerprint_terms: Mapped[list[str] | None] = mapped_column(JSON)
    fingerprint_model: Mapped[str | None] = mapped_column(String(256))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Start of the silence stretch already alerted ("we are silent"), so it alerts once.
    dark_alerted_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _capped(count: str, full: int, signal: str) -> str:
    # Never a logarithm of zero or less: a count is 0 while its row is being recounted.
    return f"CASE WHEN {count} <= 0 THEN 0 WHEN {count} >= {full} THEN 1 ELSE {signal} END"


def _base_priority(w: PriorityWeights) -> str:
    """`analysis.outreach.priorities` without recency, over an incident author row, in SQL."""
    repetition = f"ln(1 + negative_posts) / {math.log1p(REPETITION_SATURATES)!r}"
    reach = f"log10(1 + coalesce(followers, 0)) / {math.log10(REACH_SATURATES)!r}"
    engagement = f"ln(1 + engagement) / {math.log1p(ENGAGEMENT_SATURATES)!r}"
    parts = [
        f"{w.negativity!r} * (CASE WHEN posts > 0 THEN p_negative_sum / posts ELSE 0 END)",
        f"{w.repetition!r} * ({_capped('negative_posts', REPETITION_SATURATES, repetition)})",
        f"{w.reach!r} * ({_capped('coalesce(followers, 0)', REACH_SATURATES - 1, reach)})",
        f"{w.engagement!r} * ({_capped('engagement', ENGAGEMENT_SATURATES, engagement)})",
    ]
    return "100 * (" + " + ".join(parts) + ")"


BASE_PRIORITY = _base_priority(PriorityWeights())


class IncidentAuthor(Base):
    """One author's scored posts in an incident's window, per model: what Outreach ranks.

    Kept in the same transaction as every change to the scores and rebuilt when the window
    changes (opened, resolved), so ranking a big incident's authors reads one row per author
    instead of every post. Counts follow the model's labels; reviewers' overrides apply on read.
    """

    __tablename__ = "incident_authors"
    __table_args__ = (
        # The Outreach page's first read: the highest base priorities of an incident.
        Index("ix_incident_authors_base", "incident_id", "model_version", "base_priority"),
        # Its counts: the unhappy authors per platform, index-only.
        Index(
            "ix_incident_authors_unhappy",
            "incident_id",
            "model_version",
            "platform",
            "author_id",
            postgresql_where=sql_text("negative_posts >= 1"),
            sqlite_where=sql_text("negative_posts >= 1"),
        ),
    )

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    model_version: Mapped[str] = mapped_column(String(256), primary_key=True)
    author_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    # As of the author's latest scored post: the ranking's reach without a join to authors.
    followers: Mapped[int | None] = mapped_column(Integer)
    # Posts other than `other_language`, and of those the negative ones.
    posts: Mapped[int] = mapped_column(Integer)
    negative_posts: Mapped[int] = mapped_column(Integer)
    p_negative_sum: Mapped[float] = mapped_column(Float)
    engagement: Mapped[int] = mapped_column(BigInteger)
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The priority without recency, kept by the database: ranking reads it instead of computing
    # four logarithms per author.
    base_priority: Mapped[float] = mapped_column(Float, Computed(BASE_PRIORITY, persisted=True))


class Outreach(Base):
    """Support's work on one unhappy author within one incident."""

    __tablename__ = "outreach"
    __table_args__ = (UniqueConstraint("incident_id", "author_id", name="uq_outreach_inc_author"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="new")
    assignee: Mapped[str | None] = mapped_column(String(256))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutreachReply(Base):
    """Our public reply (or follow-up) to one post of an unhappy author; never two per post."""

    __tablename__ = "outreach_replies"
    __table_args__ = (
        UniqueConstraint("platform", "replied_to", name="uq_outreach_replies_post"),
        Index("ix_outreach_replies_incident", "incident_id", "author_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    # The platform's id of the post we answer: their complaint, or our earlier reply.
    replied_to: Mapped[str] = mapped_column(String(256))
    replied_url: Mapped[str | None] = mapped_column(String(1024))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16), default="reply")
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="sending")
    remote_id: Mapped[str | None] = mapped_column(String(256))
    url: Mapped[str | None] = mapped_column(String(1024))
    sender: Mapped[str | None] = mapped_column(String(128))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutreachTicket(Base):
    """A helpdesk ticket for one author (`scope` "author:<id>") or one problem ticket ("problem")."""

    __tablename__ = "outreach_tickets"
    __table_args__ = (
        UniqueConstraint("helpdesk", "incident_id", "scope", name="uq_outreach_tickets_scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    helpdesk: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    author_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    ticket_id: Mapped[str | None] = mapped_column(String(128))
    url: Mapped[str | None] = mapped_column(String(1024))
    status: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CollectorCursor(Base):
    """Where a collector left off for one (source, query), so each fetch is incremental."""

    __tablename__ = "collector_cursors"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    query: Mapped[str] = mapped_column(String(512), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(512))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SourceHealth(Base):
    """How one collector source is doing, for the dashboard and `flarewatch run`."""

    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    posts_collected: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Streams only: connected, reconnecting, lagging or stopped, and seconds behind live.
    stream_state: Mapped[str | None] = mapped_column(String(16))
    lag_seconds: Mapped[float | None] = mapped_column(Float)


class SpikeEvent(Base):
    """A negative spike Flarewatch saw for a brand; an early warning when no incident was open."""

    __tablename__ = "spike_events"
    __table_args__ = (Index("ix_spike_events_brand_start", "brand", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="volume")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    peak_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    observed: Mapped[int] = mapped_column(Integer, default=0)
    baseline: Mapped[float] = mapped_column(Float, default=0.0)
    ratio: Mapped[float] = mapped_column(Float, default=0.0)
    severity: Mapped[float] = mapped_column(Float, default=0.0)
    early_warning: Mapped[bool] = mapped_column(Boolean, default=False)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    themes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Past incidents of the brand most like this spike, best first (id, title, score, cause, fix).
    matches: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # A person's verdict on the alert: "useful" or "noise".
    feedback: Mapped[str | None] = mapped_column(String(8))


class PostMortemRow(Base):
    """An incident's blameless post-mortem; while it exists the incident cannot be deleted."""

    __tablename__ = "postmortems"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    fix: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TimelineNote(Base):
    """A timeline entry a person wrote into a post-mortem."""

    __tablename__ = "postmortem_entries"
    __table_args__ = (Index("ix_postmortem_entries_incident", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)


class FollowUpRow(Base):
    """A follow-up action of a post-mortem: owner, due date, done."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_incident", "incident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(256))
    due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


# The search index over incidents (title, post-mortem, complaint themes) is not an ORM table:
# on SQLite it is the FTS5 virtual table `incident_search(incident_id UNINDEXED, brand
# UNINDEXED, title, postmortem, themes)`, on PostgreSQL a table of the same columns with a
# generated `document tsvector` and a GIN index (migration 0015, queries/memory.py).
SEARCH_TABLE = "incident_search"


class SpikeAlertDelivery(Base):
    """One alert destination that received a spike's alert; the others are tried again."""

    __tablename__ = "spike_alert_deliveries"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("spike_events.id", ondelete="CASCADE"), primary_key=True
    )
    destination: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IncidentLink(Base):
    """An incident's id in an outside tool (Statuspage, PagerDuty), so its events find it again."""

    __tablename__ = "incident_links"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabelOverride(Base):
    """A person's sentiment label for one post, kept apart from every model's scores."""

    __tablename__ = "label_overrides"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(16))
    labelled_by: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    labelled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DetectorState(Base):
    """What the online spike detector decided up to its last judged bucket, per brand and width.

    `brand` is "" for the detector over every brand together.
    """

    __tablename__ = "detector_states"

    brand: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket_minutes: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_bucket: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expected: Mapped[float | None] = mapped_column(Float)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("spike_events.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboundItem(Base):
    """One message Flarewatch drafts or sends: an incident update, a reply or a follow-up.

    `idempotency_key` is unique: a retry after a timeout finds the same row, and the publisher
    checks the platform before sending it again.
    """

    __tablename__ = "outbound_items"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_outbound_idempotency"),
        Index("ix_outbound_incident", "incident_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String(32))
    account: Mapped[str | None] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(16), default="update")
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    # Thread parts after the first, in order (each sent as a reply to the one before).
    parts: Mapped[list[str] | None] = mapped_column(JSON)
    reply_to: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    remote_id: Mapped[str | None] = mapped_column(String(256))
    remote_ids: Mapped[list[str] | None] = mapped_column(JSON)
    url: Mapped[str | None] = mapped_column(String(1024))
    drafted_by: Mapped[str | None] = mapped_column(String(128))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class SilenceAlert(Base):
    """A silent stretch of one feed (source and brand) already alerted; `brand` "" is no brand."""

    __tablename__ = "silence_alerts"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    brand: Mapped[str] = mapped_column(String(128), primary_key=True)
    stretch_start: Mapped[datetime] = mapped_column(UTCDateTime)
    silent_since: Mapped[datetime] = mapped_column(UTCDateTime)
    usual_p95_seconds: Mapped[float] = mapped_column(Float)
    alerted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
