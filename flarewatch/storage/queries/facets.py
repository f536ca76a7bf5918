"""Facet rollups: posts, and each model's labels, per brand, 15 minutes, platform and language."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, select
from sqlalchemy import insert as sa_insert
from sqlalchemy.orm import Session

from flarewatch.storage.queries._sql import bucket_epoch, chunks, greatest, in_window, insert
from flarewatch.storage.queries.rollups import apply_deltas, bucket_of, ragged_ends, whole_buckets
from flarewatch.storage.schema import (
    NO_LANGUAGE_KEY,
    ROLLUP_SECONDS,
    FacetBucket,
    Post,
    PostBucket,
    SentimentScore,
)

# (brand or '', bucket start in epoch seconds, platform, language key)
PostKey = tuple[str, int, str, str]
# (model version, brand or '', bucket start, platform, language key, label)
FacetKey = tuple[str, str, int, str, str, str]
POST_KEY = ("brand", "bucket", "platform", "language")
FACET_KEY = ("model_version", "brand", "bucket", "platform", "language", "label")


def language_key(language: str | None) -> str:
    """A post's language as the rollups store it."""
    return NO_LANGUAGE_KEY if language is None else language


def language_of(key: str) -> str | None:
    """The post language a rollup's language key stands for."""
    return None if key == NO_LANGUAGE_KEY else key


def post_key(brand: str | None, at: datetime, platform: str, language: str | None) -> PostKey:
    """The rollup row a post counts in."""
    return (brand or "", bucket_of(at), platform, language_key(language))


def scored_facets(
    session: Session, post_ids: Iterable[int], model_version: str | None = None
) -> tuple[dict[int, tuple[str, str | None]], list[tuple[int, FacetKey]]]:
    """Each post's platform and language, and (post id, facet) of each of its stored scores.

    One statement reads both, so a score is counted under the language its post has now.
    """
    facets: dict[int, tuple[str, str | None]] = {}
    keys: list[tuple[int, FacetKey]] = []
    on = SentimentScore.post_id == Post.id
    if model_version is not None:
        on = and_(on, SentimentScore.model_version == model_version)
    stmt = select(
        Post.id,
        Post.platform,
        Post.language,
        SentimentScore.model_version,
        SentimentScore.brand,
        SentimentScore.created_at,
        SentimentScore.label,
    ).outerjoin(SentimentScore, on)
    for chunk in chunks(list(post_ids)):
        for pid, platform, lang, model, brand, at, label in session.execute(
            stmt.where(Post.id.in_(chunk))
        ):
            facets[pid] = (platform, lang)
            if model is not None and at is not None:
                key = (model, brand or "", bucket_of(at), platform, language_key(lang), label)
                keys.append((pid, key))
    return facets, keys


def score_facet(
    model_version: str,
    brand: str | None,
    at: datetime | None,
    facet: tuple[str, str | None] | None,
    label: str,
) -> FacetKey | None:
    """The facet a score counts in; None for a score without its post (or its post's time)."""
    if at is None or facet is None:
        return None
    return (model_version, brand or "", bucket_of(at), facet[0], language_key(facet[1]), label)


def stored_facets(
    session: Session, post_ids: Iterable[int], model_version: str | None = None
) -> list[FacetKey]:
    """The facet of every stored score of these posts (of one model, or of all)."""
    return [key for _, key in scored_facets(session, post_ids, model_version)[1]]


def count_score_changes(session: Session, added: list[FacetKey], removed: list[FacetKey]) -> None:
    """Keep `score_buckets` and `facet_buckets` in step with scores added and removed."""
    apply_deltas(
        session,
        [(m, b, t, lbl) for m, b, t, _, _, lbl in added],
        [(m, b, t, lbl) for m, b, t, _, _, lbl in removed],
    )
    deltas: Counter[FacetKey] = Counter(added)
    deltas.subtract(removed)
    # Sorted: every writer locks rollup rows in the same order, so two workers never deadlock.
    rows = [dict(zip(FACET_KEY, k, strict=True)) | {"posts": n} for k, n in sorted(deltas.items())]
    rows = [r for r in rows if r["posts"]]
    if rows:
        stmt = insert(session, FacetBucket.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(FACET_KEY), set_={"posts": FacetBucket.posts + stmt.excluded.posts}
        )
        session.execute(stmt, rows)


def count_posts_in(
    session: Session, deltas: Mapping[PostKey, tuple[int, datetime, datetime]]
) -> None:
    """Add posts to the post rollup: per key (posts, newest created, newest collected time)."""
    rows = [
        dict(zip(POST_KEY, k, strict=True))
        | {"posts": n, "last_created_at": created, "last_collected_at": collected}
        for k, (n, created, collected) in sorted(deltas.items())
    ]
    if not rows:
        return
    stmt = insert(session, PostBucket.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(POST_KEY),
        set_={
            "posts": PostBucket.posts + stmt.excluded.posts,
            "last_created_at": greatest(
                session, PostBucket.last_created_at, stmt.excluded.last_created_at
            ),
            "last_collected_at": greatest(
                session, PostBucket.last_collected_at, stmt.excluded.last_collected_at
            ),
        },
    )
    session.execute(stmt, rows)


def count_new_posts(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Count posts this transaction inserted (given as their inserted column values)."""
    deltas: dict[PostKey, tuple[int, datetime, datetime]] = {}
    for r in rows:
        key = post_key(r["brand"], r["created_at"], r["platform"], r["language"])
        n, created, collected = deltas.get(key, (0, r["created_at"], r["collected_at"]))
        deltas[key] = (n + 1, max(created, r["created_at"]), max(collected, r["collected_at"]))
    count_posts_in(session, deltas)


def move_languages(session: Session, languages: Mapping[int, str]) -> None:
    """Move posts about to get a new language, and their scores, to that language's rollup rows.

    On PostgreSQL the posts are locked first, as scorers lock them (`lock_posts`, in id order): a
    scorer saving a score of one of them meanwhile either commits first, and its score is moved
    here, or waits and reads the new language.
    """
    moves: dict[PostKey, tuple[int, datetime, datetime]] = {}
    changed: dict[int, str] = {}
    stmt = select(
        Post.id, Post.brand, Post.created_at, Post.collected_at, Post.platform, Post.language
    ).order_by(Post.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(key_share=True)
    for chunk in chunks(sorted(languages)):
        for pid, brand, at, collected, platform, old in session.execute(
            stmt.where(Post.id.in_(chunk))
        ):
            if old == languages[pid]:
                continue
            changed[pid] = languages[pid]
            for language, n in ((old, -1), (languages[pid], 1)):
                key = post_key(brand, at, platform, language)
                before, latest, last_collected = moves.get(key, (0, at, collected))
                moves[key] = (before + n, max(latest, at), max(last_collected, collected))
    count_posts_in(session, {k: v for k, v in moves.items() if v[0]})
    stored = scored_facets(session, changed)[1]
    added = [(*key[:4], language_key(changed[pid]), key[5]) for pid, key in stored]
    count_score_changes(session, added, [key for _, key in stored])


def _group(column: str, value: Any) -> str | None:
    return language_of(value) if column == "language" else value


def _buckets(stmt: Any, table: Any, brand: str | None, lo: int | None, hi: int | None) -> Any:
    if brand is not None:
        stmt = stmt.where(table.brand == brand)
    if lo is not None:
        stmt = stmt.where(table.bucket >= lo)
    if hi is not None:
        stmt = stmt.where(table.bucket < hi)
    return stmt


def facet_counts(
    session: Session,
    column: str,
    model_version: str,
    brand: str | None,
    lo: int | None,
    hi: int | None,
) -> tuple[Counter[str | None], Counter[tuple[str | None, str]]]:
    """Posts per platform or language, and the model's labels per (group, label), in [lo, hi).

    `lo` and `hi` are bucket starts (epoch seconds); None leaves that side open.
    """
    group = getattr(PostBucket, column)
    stmt = _buckets(select(group, func.sum(PostBucket.posts)), PostBucket, brand, lo, hi)
    totals: Counter[str | None] = Counter()
    for g, n in session.execute(stmt.group_by(group)):
        totals[_group(column, g)] += int(n)
    group = getattr(FacetBucket, column)
    stmt = select(group, FacetBucket.label, func.sum(FacetBucket.posts)).where(
        FacetBucket.model_version == model_version
    )
    stmt = _buckets(stmt, FacetBucket, brand, lo, hi).group_by(group, FacetBucket.label)
    labels: Counter[tuple[str | None, str]] = Counter()
    for g, label, n in session.execute(stmt):
        labels[_group(column, g), str(label)] += int(n)
    return totals, labels


def post_totals(
    session: Session,
    seconds: int,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Counter[int]:
    """Posts per bucket of `seconds` (as epoch seconds) in a window, our own posts included.

    Whole 15-minute buckets come from the post rollup, the window's ragged ends from the posts.
    """
    lo, hi = whole_buckets(start, end)
    # The rollup keeps no brand apart from '': a window of brand '' is read from the posts.
    if seconds % ROLLUP_SECONDS or brand == "" or (lo is not None and hi is not None and lo >= hi):
        return counted_totals(session, seconds, brand, start, end)
    stmt = select(PostBucket.bucket, func.sum(PostBucket.posts))
    stmt = _buckets(stmt, PostBucket, brand, lo, hi).group_by(PostBucket.bucket)
    totals: Counter[int] = Counter()
    for b, n in session.execute(stmt):
        totals[int(b) // seconds * seconds] += int(n)
    for part_start, part_end in ragged_ends(start, end, lo, hi):
        totals.update(counted_totals(session, seconds, brand, part_start, part_end))
    return totals


def counted_totals(
    session: Session,
    seconds: int,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
    *where: ColumnElement[bool],
) -> Counter[int]:
    """Posts (those matching `where`) per bucket, an index-only count over the window's posts."""
    bucket = bucket_epoch(session, Post.created_at, seconds).label("bucket")
    stmt = in_window(select(bucket, func.count()).where(*where), brand, start, end)
    stmt = stmt.group_by(bucket)
    return Counter({int(b): int(n) for b, n in session.execute(stmt)})


def activity_since(session: Session, lo: int) -> dict[str, tuple[int, datetime, datetime]]:
    """Per platform, from bucket `lo` on: posts, newest post time and newest collection time.

    A post that changed language leaves its times in its former row too; per platform the
    newest times stay exact, as a post never changes platform, brand or time.
    """
    stmt = select(
        PostBucket.platform,
        func.sum(PostBucket.posts),
        func.max(PostBucket.last_created_at),
        func.max(PostBucket.last_collected_at),
    ).where(PostBucket.bucket >= lo)
    return {
        str(p): (int(n), created, collected)
        for p, n, created, collected in session.execute(stmt.group_by(PostBucket.platform))
    }


def _recount_posts(session: Session) -> Any:
    bucket = bucket_epoch(session, Post.created_at, ROLLUP_SECONDS)
    keys = (
        func.coalesce(Post.brand, ""),
        bucket,
        Post.platform,
        func.coalesce(Post.language, NO_LANGUAGE_KEY),
    )
    counted = (func.count(), func.max(Post.created_at), func.max(Post.collected_at))
    return select(*keys, *counted).where(Post.created_at.is_not(None)).group_by(*keys)


def _recount_facets(session: Session) -> Any:
    bucket = bucket_epoch(session, SentimentScore.created_at, ROLLUP_SECONDS)
    keys = (
        SentimentScore.model_version,
        func.coalesce(SentimentScore.brand, ""),
        bucket,
        Post.platform,
        func.coalesce(Post.language, NO_LANGUAGE_KEY),
        SentimentScore.label,
    )
    return (
        select(*keys, func.count())
        .join(Post, Post.id == SentimentScore.post_id)
        .where(SentimentScore.created_at.is_not(None))
        .group_by(*keys)
    )


def rebuild_facet_buckets(session: Session) -> int:
    """Recount both facet rollups from the stored posts and scores; returns their rows.

    For rows written around `save_posts` and `save_scores` (a bulk COPY), as
    `rebuild_score_buckets`: every Flarewatch write keeps them current.
    """
    session.execute(delete(PostBucket))
    session.execute(delete(FacetBucket))
    columns = [*POST_KEY, "posts", "last_created_at", "last_collected_at"]
    session.execute(sa_insert(PostBucket).from_select(columns, _recount_posts(session)))
    columns = [*FACET_KEY, "posts"]
    session.execute(sa_insert(FacetBucket).from_select(columns, _recount_facets(session)))
    count = func.count()
    posts = session.scalar(select(count).select_from(PostBucket))
    return int(posts or 0) + int(session.scalar(select(count).select_from(FacetBucket)) or 0)


def facet_bucket_drift(session: Session) -> int:
    """How many rows of the facet rollups count differently from the posts and scores (0 in step)."""
    recounted: dict[Any, int] = {
        ("post", *row[:4]): int(row[4]) for row in session.execute(_recount_posts(session))
    }
    recounted.update(
        {("facet", *row[:6]): int(row[6]) for row in session.execute(_recount_facets(session))}
    )
    stored: dict[Any, int] = {
        ("post", r.brand, r.bucket, r.platform, r.language): r.posts
        for r in session.scalars(select(PostBucket).where(PostBucket.posts != 0))
    }
    stored.update(
        {
            ("facet", *(getattr(r, c) for c in FACET_KEY)): r.posts
            for r in session.scalars(select(FacetBucket).where(FacetBucket.posts != 0))
        }
    )
    keys = recounted.keys() | stored.keys()
    return sum(recounted.get(k) != stored.get(k) for k in keys)
