"""Sentiment scores and the leased claims scoring workers share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    delete,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from flarewatch.storage.queries._sql import (
    NO_WINDOW,
    as_utc,
    chunks,
    insert,
    scored_by,
    upsert,
)
from flarewatch.storage.queries.facets import count_score_changes, score_facet, scored_facets
from flarewatch.storage.queries.incident_authors import tracking_incident_authors
from flarewatch.storage.queries.posts import _post_windows
from flarewatch.storage.queries.progress import unscored
from flarewatch.storage.queries.rollups import lock_posts
from flarewatch.storage.schema import (
    Post,
    ScoreClaim,
    SentimentScore,
    UTCDateTime,
    utcnow,
)


def unscored_posts(
    session: Session, model_version: str, limit: int = 1000
) -> list[tuple[int, str]]:
    """Return up to `limit` (post id, text) pairs that `model_version` has not scored yet."""
    stmt = (
        select(Post.id, Post.text)
        .where(unscored(session, model_version))
        .order_by(Post.id)
        .limit(limit)
    )
    return [(int(i), str(t)) for i, t in session.execute(stmt)]


def count_unscored(session: Session, model_version: str) -> int:
    """Count posts that `model_version` has not scored yet."""
    stmt = select(func.count()).select_from(Post).where(unscored(session, model_version))
    return int(session.scalar(stmt) or 0)


def count_unscored_between(
    session: Session, model_version: str, start: datetime, end: datetime
) -> int:
    """Count posts created in [start, end) that `model_version` has not scored yet."""
    stmt = select(func.count(Post.id)).where(
        Post.created_at >= start, Post.created_at < end, unscored(session, model_version)
    )
    return int(session.scalar(stmt) or 0)


def save_scores(session: Session, model_version: str, scores: Iterable[dict[str, Any]]) -> int:
    """Upsert scores given as dicts with post_id, label, p_negative, p_neutral, p_positive."""
    now = utcnow()
    # One row per post, the last given winning: the rollup counts each saved row once.
    unique = {s["post_id"]: s for s in scores}
    rows = [{**s, "model_version": model_version, "scored_at": now} for s in unique.values()]
    window = _post_windows(session, [r["post_id"] for r in rows])
    for row in rows:
        row.update(window.get(row["post_id"], NO_WINDOW))
    lock_posts(session, [r["post_id"] for r in rows])
    facets, replaced = scored_facets(session, [r["post_id"] for r in rows], model_version)
    keys = (
        score_facet(
            model_version, r["brand"], r["created_at"], facets.get(r["post_id"]), r["label"]
        )
        for r in rows
    )
    # The incident authors are written last, as every writer does: no two transactions wait on
    # each other's rollup rows in opposite orders.
    with tracking_incident_authors(session, [r["post_id"] for r in rows]):
        upsert(
            session,
            SentimentScore.__table__,
            rows,
            ("post_id", "model_version"),
            ("label", "p_negative", "p_neutral", "p_positive", "scored_at", *NO_WINDOW),
        )
        count_score_changes(session, [k for k in keys if k is not None], [k for _, k in replaced])
    return len(rows)


def latest_model_version(session: Session) -> str | None:
    """Return the model version that scored most recently, the one views show by default."""
    stmt = select(SentimentScore.model_version).order_by(SentimentScore.scored_at.desc()).limit(1)
    return session.scalar(stmt)


def model_versions(session: Session) -> list[str]:
    """List every model version that has scores stored."""
    return list(session.scalars(select(SentimentScore.model_version).distinct()))


def claim_unscored(
    session: Session,
    model_version: str,
    worker: str,
    *,
    limit: int,
    lease_until: datetime,
    now: datetime | None = None,
) -> list[tuple[int, str]]:
    """Claim up to `limit` posts nobody has scored or holds a live claim on; return (id, text).

    One INSERT ... SELECT takes the claims, so on SQLite the claim transaction holds the write
    lock from its first statement; on PostgreSQL the candidates are picked with
    `FOR UPDATE SKIP LOCKED`. The conflict clause only takes over expired claims, so two workers
    never both receive the same post while its lease is live.
    """
    now = now or utcnow()
    claims = ScoreClaim.__table__
    candidates = (
        select(
            Post.id,
            literal(model_version),
            literal(worker),
            literal(lease_until, UTCDateTime()),
        )
        .where(
            unscored(session, model_version),
            ~exists().where(
                claims.c.post_id == Post.id,
                claims.c.model_version == model_version,
                claims.c.lease_until > now,
            ),
        )
        .order_by(Post.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, of=Post)
    stmt = insert(session, claims).from_select(
        ["post_id", "model_version", "worker", "lease_until"], candidates
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["post_id", "model_version"],
        set_={"worker": stmt.excluded.worker, "lease_until": stmt.excluded.lease_until},
        where=claims.c.lease_until <= now,
    ).returning(claims.c.post_id)
    ids = [int(i) for i in session.scalars(stmt)]
    if not ids:
        return []
    return _claimed_texts(session, model_version, ids)


def _claimed_texts(session: Session, model_version: str, ids: list[int]) -> list[tuple[int, str]]:
    # On PostgreSQL the claim's snapshot can predate another worker's save of the same post; its
    # claim row was deleted with that save, so no conflict stopped us. This statement sees the save.

    stmt = select(Post.id, Post.text).where(Post.id.in_(ids), ~_scored_exists(model_version))
    texts = [(int(i), str(t)) for i, t in session.execute(stmt.order_by(Post.id))]
    done = set(ids) - {i for i, _ in texts}
    if done:
        session.execute(
            delete(ScoreClaim).where(
                ScoreClaim.model_version == model_version, ScoreClaim.post_id.in_(done)
            )
        )
    return texts


def _scored_exists(model_version: str) -> ColumnElement[bool]:
    return select(SentimentScore.id).where(scored_by(model_version)).exists()


def save_claimed_scores(
    session: Session, model_version: str, scores: Sequence[dict[str, Any]]
) -> int:
    """Save scores (as `save_scores`) and drop the claims on those posts in the same transaction."""

    saved = save_scores(session, model_version, scores)
    ids = [s["post_id"] for s in scores]
    for chunk in chunks(ids):
        session.execute(
            delete(ScoreClaim).where(
                ScoreClaim.model_version == model_version,
                ScoreClaim.post_id.in_(chunk),
            )
        )
    return saved


def release_claims(session: Session, model_version: str, worker: str) -> int:
    """Drop every claim `worker` holds, so other workers can take those posts at once."""

    result = session.execute(
        delete(ScoreClaim).where(
            ScoreClaim.model_version == model_version, ScoreClaim.worker == worker
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def next_claim_expiry(
    session: Session, model_version: str, now: datetime | None = None
) -> datetime | None:
    """When the earliest live claim on a still unscored post runs out; None if there is none."""

    stmt = select(func.min(ScoreClaim.lease_until)).where(
        ScoreClaim.model_version == model_version,
        ScoreClaim.lease_until > (now or utcnow()),
        ~select(SentimentScore.id)
        .where(
            SentimentScore.post_id == ScoreClaim.post_id,
            SentimentScore.model_version == model_version,
        )
        .exists(),
    )
    return as_utc(session.scalar(stmt))


def count_scores(session: Session, model_version: str) -> int:
    """Count stored scores of `model_version` (at most one per post)."""
    stmt = (
        select(func.count())
        .select_from(SentimentScore)
        .where(SentimentScore.model_version == model_version)
    )
    return int(session.scalar(stmt) or 0)


def count_claims(session: Session, model_version: str) -> int:
    """Count scoring claims, live or expired, held for `model_version`."""

    stmt = select(func.count()).where(ScoreClaim.model_version == model_version)
    return int(session.scalar(stmt) or 0)
