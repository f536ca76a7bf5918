"""Read-only views over posts and scores: timelines, negative posts, breakdowns, analyst rows."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
    select,
    true,
)
from sqlalchemy.orm import Session

from flarewatch.domain import check_choice
from flarewatch.storage.queries._sql import (
    as_utc,
    bucket_epoch,
    chunks,
    effective_label,
    in_window,
    others_in_window,
    overridden,
    score_window,
    scored_by,
    scored_in_window,
)
from flarewatch.storage.queries.facets import (
    activity_since,
    counted_totals,
    facet_counts,
    post_totals,
)
from flarewatch.storage.queries.rollups import (
    _at,
    first_bucket_from,
    ragged_ends,
    rolled_up_labels,
    whole_buckets,
)
from flarewatch.storage.queries.scores import _scored_exists
from flarewatch.storage.schema import (
    Author,
    LabelOverride,
    Post,
    SentimentScore,
)


def timeline(
    session: Session,
    *,
    model_version: str,
    bucket_minutes: int,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[tuple[int, str, int]]:
    """Count posts per (bucket start as epoch seconds, label); unscored posts count as `unscored`.

    Labels are overrides where a reviewer set one, else the model's.
    """
    seconds = bucket_minutes * 60
    counts = _labelled_buckets(session, model_version, seconds, brand, start, end)
    labelled: Counter[int] = Counter()
    for (b, _), n in counts.items():
        labelled[b] += n
    # Unscored posts are the rest of each bucket: counting them directly would probe the
    # scores once per post, which is what the scores' window columns are there to avoid.
    # Our own posts are few and have a partial index: subtracting them keeps the totals a
    # rollup read (or an index-only count), which a filter on `is_own` would not be.
    own = counted_totals(session, seconds, brand, start, end, Post.is_own == true())
    for b, n in sorted(post_totals(session, seconds, brand, start, end).items()):
        n -= own[b]
        if n > labelled[b]:
            counts[b, "unscored"] = n - labelled[b]
    return [(b, lbl, n) for (b, lbl), n in sorted(counts.items())]


def _labelled_buckets(
    session: Session,
    model_version: str,
    seconds: int,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Counter[tuple[int, str]]:
    """Posts per (bucket, label) that the model scored or a reviewer labelled."""
    rolled = rolled_up_labels(session, model_version, seconds, brand, start, end)
    counts = rolled if rolled is not None else Counter()
    if rolled is None:
        bucket = bucket_epoch(session, SentimentScore.created_at, seconds).label("bucket")
        label = effective_label().label("label")
        scored = score_window(model_version, brand, start, end)
        for b, lbl, n in session.execute(
            scored.add_columns(bucket, label, func.count()).group_by(bucket, label)
        ):
            counts[int(b), str(lbl)] += int(n)
    for at, lbl in reviewed_unscored(session, model_version, brand, start, end):
        counts[int(at.timestamp()) // seconds * seconds, lbl] += 1
    return counts


def reviewed_unscored(
    session: Session,
    model_version: str,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> list[tuple[datetime, str]]:
    """(post time, label) of posts in the window that a reviewer labelled and the model did not."""
    # Reviewed posts are few: reading them first and the posts by id keeps the planner from
    # walking every post to probe for an override.
    reviewed = dict(session.execute(select(LabelOverride.post_id, LabelOverride.label)).all())
    found = []
    ids = list(reviewed)
    for chunk in chunks(ids):
        stmt = select(Post.id, Post.created_at, Post.brand).where(
            Post.id.in_(chunk), ~_scored_exists(model_version)
        )
        found += [
            (at, reviewed[post_id])
            for post_id, at, post_brand in session.execute(stmt)
            if (brand is None or post_brand == brand)
            and (start is None or at >= start)
            and (end is None or at < end)
        ]
    return found


def negative_posts(
    session: Session,
    *,
    model_version: str,
    label: str | None = "negative",
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Return the newest labelled posts (optionally of one label) with author and probabilities.

    A post is labelled once the model scored it or a reviewer labelled it; the reviewer wins.
    """
    stmt = (
        select(
            Post.id,
            Post.created_at,
            Post.platform,
            Post.text,
            Post.url,
            Author.handle,
            Author.followers,
            effective_label().label("label"),
            SentimentScore.p_negative,
        )
        .outerjoin(SentimentScore, scored_by(model_version))
        .outerjoin(LabelOverride, overridden(Post.id))
        .outerjoin(Author, Author.id == Post.author_id)
    )
    stmt = stmt.where(
        effective_label().is_not(None) if label is None else effective_label() == label
    )
    stmt = in_window(stmt, brand, start, end).order_by(Post.created_at.desc()).limit(limit)
    return [dict(row._mapping) for row in session.execute(stmt)]


def posts_with_scores(
    session: Session,
    *,
    model_version: str,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    platform: str | None = None,
) -> list[dict[str, Any]]:
    """Return posts in a window, oldest first, with author, engagement and (if scored) sentiment."""
    stmt = (
        select(
            Post.id,
            Post.created_at,
            Post.platform,
            Post.brand,
            Post.text,
            Post.url,
            Post.author_id,
            Author.handle,
            Author.followers,
            Post.like_count,
            Post.repost_count,
            Post.reply_count,
            Post.quote_count,
            effective_label().label("label"),
            SentimentScore.label.label("model_label"),
            SentimentScore.p_negative,
            SentimentScore.p_neutral,
            SentimentScore.p_positive,
        )
        .outerjoin(SentimentScore, scored_by(model_version))
        .outerjoin(LabelOverride, overridden(Post.id))
        .outerjoin(Author, Author.id == Post.author_id)
    )
    if platform is not None:
        stmt = stmt.where(Post.platform == platform)
    stmt = others_in_window(stmt, brand, start, end).order_by(Post.created_at, Post.id)
    return [dict(row._mapping) for row in session.execute(stmt)]


BREAKDOWN_COLUMNS = ("platform", "language")


def sentiment_by(
    session: Session,
    column: str,
    *,
    model_version: str,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[tuple[str | None, str, int]]:
    """Count posts per (platform or language, label) in a window; unscored count as `unscored`.

    Whole 15-minute buckets come from the facet rollups, the window's ragged ends from the posts.
    """
    check_choice("breakdown", column, BREAKDOWN_COLUMNS)
    lo, hi = whole_buckets(start, end)
    # The rollups keep no brand apart from '': a window of brand '' is read from the posts.
    if brand == "" or (lo is not None and hi is not None and lo >= hi):
        counts = _labels_by(session, column, model_version, brand, start, end)
    else:
        counts = _rolled_up_by(session, column, model_version, brand, lo, hi)
        for part_start, part_end in ragged_ends(start, end, lo, hi):
            counts.update(_labels_by(session, column, model_version, brand, part_start, part_end))
    # Our own posts (never scored) are subtracted through their partial index: a filter on
    # `is_own` would read every post row of the window instead of the covering index.
    for g, n in _own_by(session, column, brand, start, end).items():
        counts[(g, "unscored")] -= n
    return sorted(
        ((g, lbl, n) for (g, lbl), n in counts.items() if n > 0),
        key=lambda row: (row[0] is None, row[0] or "", row[1]),
    )


def _rolled_up_by(
    session: Session,
    column: str,
    model_version: str,
    brand: str | None,
    lo: int | None,
    hi: int | None,
) -> Counter[tuple[str | None, str]]:
    """`_labels_by` over whole rollup buckets [lo, hi), from the rollups and reviewers' labels."""
    totals, counts = facet_counts(session, column, model_version, brand, lo, hi)
    start = None if lo is None else _at(lo)
    end = None if hi is None else _at(hi)
    for group, model_label, label in _reviewed(session, column, model_version, brand, start, end):
        if model_label is not None:
            counts[group, model_label] -= 1
        counts[group, label] += 1
    labelled: Counter[str | None] = Counter()
    for (g, _), n in counts.items():
        labelled[g] += n
    for g in totals.keys() | labelled.keys():
        counts[g, "unscored"] += totals[g] - labelled[g]
    return counts


def _reviewed(
    session: Session,
    column: str,
    model_version: str,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> list[tuple[str | None, str | None, str]]:
    """(group, model's label or None, reviewer's label) of the window's reviewed posts."""
    # Reviewed posts are few: reading them first and the posts by id only (the window tested
    # here) keeps the planner from walking every post of the window to find them.
    reviewed = dict(session.execute(select(LabelOverride.post_id, LabelOverride.label)).all())
    stmt = select(Post.id, getattr(Post, column), Post.brand, Post.created_at, SentimentScore.label)
    stmt = stmt.outerjoin(SentimentScore, scored_by(model_version))
    found = []
    for chunk in chunks(list(reviewed)):
        for pid, group, post_brand, at, label in session.execute(stmt.where(Post.id.in_(chunk))):
            at = as_utc(at)
            if (
                (brand is None or post_brand == brand)
                and (start is None or at >= start)
                and (end is None or at < end)
            ):
                found.append((group, label, reviewed[pid]))
    return found


def _own_by(
    session: Session, column: str, brand: str | None, start: datetime | None, end: datetime | None
) -> Counter[str | None]:
    """The brand's own posts per group in the window, through their partial index."""
    group = getattr(Post, column)
    own = in_window(select(group, func.count()).where(Post.is_own == true()), brand, start, end)
    return Counter({g: int(n) for g, n in session.execute(own.group_by(group))})


def _labels_by(
    session: Session,
    column: str,
    model_version: str,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Counter[tuple[str | None, str]]:
    """Posts per (group, label) in a window, our own posts included, read post by post.

    The breakdown as it was before the rollups: the reference the rolled-up one must equal.
    """
    group = getattr(Post, column).label("group")
    label = func.coalesce(effective_label(), "unscored").label("label")
    stmt = (
        select(group, label, func.count())
        .outerjoin(SentimentScore, scored_in_window(session, model_version, brand, start, end))
        .outerjoin(LabelOverride, overridden(Post.id))
    )
    counts = Counter(
        {(g, str(lbl)): int(n) for g, lbl, n in session.execute(
            in_window(stmt, brand, start, end).group_by(group, label)
        )}
    )  # fmt: skip
    return counts


def platform_activity(session: Session, since: datetime) -> list[dict[str, Any]]:
    """Per platform: posts created since `since`, and the newest collected and created times.

    Whole 15-minute buckets come from the post rollup, the part before the first from the posts.
    """
    lo = first_bucket_from(since)
    found = activity_since(session, lo)
    if since < _at(lo):
        for platform, n, created, collected in _activity(session, since, _at(lo)):
            had = found.get(platform, (0, created, collected))
            found[platform] = (had[0] + n, max(had[1], created), max(had[2], collected))
    return [
        {
            "platform": platform,
            "posts": n,
            "last_collected_at": as_utc(collected),
            "last_post_at": as_utc(created),
        }
        for platform, (n, created, collected) in sorted(found.items())
        if n > 0
    ]


def _activity(
    session: Session, since: datetime, until: datetime
) -> list[tuple[str, int, datetime, datetime]]:
    """Per platform: posts created in [since, until), newest post and collection time."""
    # `platform || ''` stops SQLite from walking the whole (platform, external_id) index to
    # group in order; the posts come from the created_at index instead.
    platform = (Post.platform + "").label("platform")
    stmt = (
        select(platform, func.count(), func.max(Post.created_at), func.max(Post.collected_at))
        .where(Post.created_at >= since, Post.created_at < until)
        .group_by(platform)
    )
    return [(str(p), int(n), as_utc(c), as_utc(k)) for p, n, c, k in session.execute(stmt)]
