"""Score rollups: labels per model, brand and 15-minute bucket, kept in step with the scores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy import insert as sa_insert
from sqlalchemy.orm import Session

from flarewatch.storage.queries._sql import as_utc, bucket_epoch, chunks, created_between, insert
from flarewatch.storage.schema import (
    ROLLUP_SECONDS,
    LabelOverride,
    Post,
    ScoreBucket,
    SentimentScore,
)

# (model version, brand or '', bucket start in epoch seconds, label)
BucketKey = tuple[str, str, int, str]


def bucket_of(at: datetime) -> int:
    """Start of the 15-minute bucket holding `at`, in epoch seconds."""
    return int(as_utc(at).timestamp()) // ROLLUP_SECONDS * ROLLUP_SECONDS


def score_key(
    model_version: str, brand: str | None, at: datetime | None, label: str
) -> BucketKey | None:
    """The bucket a score counts in; None for a score without its post's time."""
    return None if at is None else (model_version, brand or "", bucket_of(at), label)


def lock_posts(session: Session, post_ids: list[int]) -> None:
    """On PostgreSQL, hold these posts until commit before their scores are read and replaced.

    Two transactions scoring the same post would otherwise both read "no score yet" and both
    count it; the second now waits and reads the first one's score. In id order, as collectors
    update posts they store again, so the two never deadlock. SQLite has one writer at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for chunk in chunks(sorted(post_ids)):
        stmt = select(Post.id).where(Post.id.in_(chunk)).order_by(Post.id)
        session.execute(stmt.with_for_update(key_share=True))


def stored_keys(
    session: Session, post_ids: Iterable[int], model_version: str | None = None
) -> list[BucketKey]:
    """The bucket of every stored score of these posts (of one model, or of all)."""
    keys = []
    for chunk in chunks(list(post_ids)):
        stmt = select(
            SentimentScore.model_version,
            SentimentScore.brand,
            SentimentScore.created_at,
            SentimentScore.label,
        ).where(SentimentScore.post_id.in_(chunk))
        if model_version is not None:
            stmt = stmt.where(SentimentScore.model_version == model_version)
        keys += [score_key(*row) for row in session.execute(stmt)]
    return [k for k in keys if k is not None]


def apply_deltas(
    session: Session, added: Iterable[BucketKey], removed: Iterable[BucketKey]
) -> None:
    """Add one post to each bucket in `added` and take one from each in `removed`."""
    deltas: Counter[BucketKey] = Counter(added)
    deltas.subtract(removed)
    # Sorted: every writer locks rollup rows in the same order, so two workers never deadlock.
    rows = [
        {"model_version": m, "brand": b, "bucket": t, "label": lbl, "posts": n}
        for (m, b, t, lbl), n in sorted(deltas.items())
        if n
    ]
    if not rows:
        return
    stmt = insert(session, ScoreBucket.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=["model_version", "brand", "bucket", "label"],
        set_={"posts": ScoreBucket.posts + stmt.excluded.posts},
    )
    session.execute(stmt, rows)


def rolled_up_labels(
    session: Session,
    model_version: str,
    seconds: int,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Counter[tuple[int, str]] | None:
    """Posts per (bucket, label) in a window under the model's labels and reviewers' overrides.

    Whole 15-minute buckets come from the rollup, the window's ragged ends from the scores;
    None when `seconds` is not a whole number of rollup buckets.
    """
    if seconds % ROLLUP_SECONDS:
        return None
    lo, hi = whole_buckets(start, end)
    if lo is not None and hi is not None and lo >= hi:
        return _model_labels(session, model_version, seconds, brand, start, end) + _overrides(
            session, model_version, seconds, brand, start, end
        )
    stmt = select(ScoreBucket.bucket, ScoreBucket.label, func.sum(ScoreBucket.posts)).where(
        ScoreBucket.model_version == model_version
    )
    if brand is not None:
        stmt = stmt.where(ScoreBucket.brand == brand)
    if lo is not None:
        stmt = stmt.where(ScoreBucket.bucket >= lo)
    if hi is not None:
        stmt = stmt.where(ScoreBucket.bucket < hi)
    counts: Counter[tuple[int, str]] = Counter()
    for b, lbl, n in session.execute(stmt.group_by(ScoreBucket.bucket, ScoreBucket.label)):
        counts[int(b) // seconds * seconds, str(lbl)] += int(n)
    for part_start, part_end in ragged_ends(start, end, lo, hi):
        counts.update(_model_labels(session, model_version, seconds, brand, part_start, part_end))
    counts.update(_overrides(session, model_version, seconds, brand, start, end))
    return +counts


def whole_buckets(start: datetime | None, end: datetime | None) -> tuple[int | None, int | None]:
    """The first rollup bucket starting at or after `start` and the first one not ending by `end`.

    Whole buckets [lo, hi) lie inside the window; None stands for an open side.
    """
    lo = None if start is None else first_bucket_from(start)
    hi = None if end is None else int(end.timestamp()) // ROLLUP_SECONDS * ROLLUP_SECONDS
    return lo, hi


def ragged_ends(
    start: datetime | None, end: datetime | None, lo: int | None, hi: int | None
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) outside its whole buckets [lo, hi): each under 15 minutes."""
    parts = []
    if lo is not None and start is not None and start < _at(lo):
        parts.append((start, _at(lo)))
    if hi is not None and end is not None and _at(hi) < end:
        parts.append((_at(hi), end))
    return parts


def first_bucket_from(at: datetime) -> int:
    """Start of the first rollup bucket that begins at or after `at`, in epoch seconds."""
    # Whole seconds rounded up: a bucket starting a fraction of a second before `at` would
    # count that fraction's posts too.
    seconds = int(at.timestamp()) + (at.microsecond > 0)
    return -(-seconds // ROLLUP_SECONDS) * ROLLUP_SECONDS


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _model_labels(
    session: Session,
    model_version: str,
    seconds: int,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Counter[tuple[int, str]]:
    """The model's labels per bucket, read from the scores (a window's ragged ends)."""
    bucket = bucket_epoch(session, SentimentScore.created_at, seconds).label("bucket")
    stmt = select(bucket, SentimentScore.label, func.count()).where(
        SentimentScore.model_version == model_version
    )
    stmt = _in_window(stmt, brand, start, end).group_by(bucket, SentimentScore.label)
    return Counter({(int(b), str(lbl)): int(n) for b, lbl, n in session.execute(stmt)})


def _overrides(
    session: Session,
    model_version: str,
    seconds: int,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Counter[tuple[int, str]]:
    """Moves from the model's label to a reviewer's, for the window's scored, reviewed posts."""
    stmt = select(SentimentScore.created_at, SentimentScore.label, LabelOverride.label).join(
        LabelOverride, LabelOverride.post_id == SentimentScore.post_id
    )
    stmt = stmt.where(SentimentScore.model_version == model_version)
    stmt = _in_window(stmt, brand, start, end)
    moves: Counter[tuple[int, str]] = Counter()
    for at, model_label, label in session.execute(stmt):
        b = int(as_utc(at).timestamp()) // seconds * seconds
        moves[b, str(model_label)] -= 1
        moves[b, str(label)] += 1
    return moves


def _in_window(stmt: Any, brand: str | None, start: datetime | None, end: datetime | None) -> Any:
    """Scores in a window, by their own copy of the post's brand and time."""
    return created_between(stmt, SentimentScore.brand, SentimentScore.created_at, brand, start, end)


def _recount(session: Session) -> Any:
    bucket = bucket_epoch(session, SentimentScore.created_at, ROLLUP_SECONDS)
    keys = (SentimentScore.model_version, func.coalesce(SentimentScore.brand, ""), bucket)
    return (
        select(*keys, SentimentScore.label, func.count())
        .where(SentimentScore.created_at.is_not(None))
        .group_by(*keys, SentimentScore.label)
    )


def rebuild_score_buckets(session: Session) -> int:
    """Recount the rollup from the stored scores; returns its rows.

    For scores written around `save_scores` (a bulk COPY): every Flarewatch write keeps it current.
    """
    session.execute(delete(ScoreBucket))
    columns = ["model_version", "brand", "bucket", "label", "posts"]
    session.execute(sa_insert(ScoreBucket).from_select(columns, _recount(session)))
    return int(session.scalar(select(func.count()).select_from(ScoreBucket)) or 0)


def score_bucket_drift(session: Session) -> int:
    """How many buckets the rollup counts differently from the stored scores (0 when in step)."""
    recounted = {
        (m, b, int(t), lbl): int(n) for m, b, t, lbl, n in session.execute(_recount(session))
    }
    stored = {
        (r.model_version, r.brand, r.bucket, r.label): r.posts
        for r in session.scalars(select(ScoreBucket).where(ScoreBucket.posts != 0))
    }
    return sum(recounted.get(k) != stored.get(k) for k in recounted.keys() | stored.keys())
