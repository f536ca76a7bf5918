"""Outreach ranking in SQL: an incident's unhappy authors by priority, filtered and paged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    and_,
    any_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from flarewatch.domain import (
    OTHER_LANGUAGE,
    OutreachFilter,
    PriorityWeights,
)
from flarewatch.storage.queries._sql import as_utc, created_between, driver_rows, greatest
from flarewatch.storage.queries.incident_authors import IncidentWindow, window_of
from flarewatch.storage.queries.incidents import get_incident
from flarewatch.storage.schema import (
    BASE_PRIORITY,
    Author,
    IncidentAuthor,
    LabelOverride,
    Outreach,
    SentimentScore,
)

ACTIVITY_COLUMNS = [
    "author_id",
    "platform",
    "followers",
    "posts",
    "negative_posts",
    "mean_p_negative",
    "engagement",
    "last_post_at",
]
AUTHOR_COLUMNS = ["handle", "display_name", "verified"]
WEIGHTS = PriorityWeights()
# What recency adds at most: a post this minute.
RECENCY_POINTS = 100 * WEIGHTS.recency


def _corrections(window: IncidentWindow, model_version: str) -> Any:
    """Per author, what reviewers' labels change in the model's counts of the window."""
    s, o = SentimentScore, LabelOverride
    counted = case((o.label != OTHER_LANGUAGE, 1), else_=0) - case(
        (s.label != OTHER_LANGUAGE, 1), else_=0
    )
    negative = case((o.label == "negative", 1), else_=0) - case((s.label == "negative", 1), else_=0)
    newly_counted = (o.label != OTHER_LANGUAGE) & (s.label == OTHER_LANGUAGE)
    stmt = (
        select(
            s.author_id.label("author_id"),
            # Types as stored: PostgreSQL flattens a UNION ALL only of identical column types.
            cast(func.sum(counted), Integer).label("posts"),
            cast(func.sum(negative), Integer).label("negative_posts"),
            cast(func.sum(counted * s.p_negative), Float).label("p_negative_sum"),
            cast(func.sum(counted * func.coalesce(s.engagement, 0)), BigInteger).label(
                "engagement"
            ),
            func.max(case((newly_counted, s.created_at))).label("last_post_at"),
        )
        .join(o, o.post_id == s.post_id)
        .where(s.model_version == model_version, s.author_id.is_not(None))
        .group_by(s.author_id)
    )
    return created_between(
        stmt, s.brand, s.created_at, window.brand, window.start, window.end
    ).subquery("corrections")


def _among(session: Session, column: Any, ids: list[int]) -> Any:
    """`column IN ids` as one array parameter on PostgreSQL (any number of ids)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(cast(literal(ids, ARRAY(Integer)), ARRAY(Integer)))
    return column.in_(ids)


def _rows(session: Session, window: IncidentWindow, model_version: str) -> tuple[Any, Any]:
    """Each author's counts in the incident under reviewers' labels, with the base priority.

    Authors no reviewer relabelled are read as stored, by a plain filter that keeps the base
    priority's index usable in order; the few others are recounted with the reviewers' labels.
    Returns every author's row, and the stored rows alone.
    """
    ia, c = IncidentAuthor, _corrections(window, model_version)
    mine = (ia.incident_id == window.id, ia.model_version == model_version)
    relabelled = list(session.scalars(select(c.c.author_id)))
    stored = select(
        ia.author_id,
        ia.platform,
        ia.followers,
        ia.posts,
        ia.negative_posts,
        ia.p_negative_sum,
        ia.engagement,
        ia.last_post_at,
        ia.base_priority.label("base"),
    ).where(*mine)
    if not relabelled:
        return stored.subquery("rows"), stored.subquery("stored")
    recounted = (
        select(
            ia.author_id,
            ia.platform,
            ia.followers,
            (ia.posts + c.c.posts).label("posts"),
            (ia.negative_posts + c.c.negative_posts).label("negative_posts"),
            (ia.p_negative_sum + c.c.p_negative_sum).label("p_negative_sum"),
            (ia.engagement + c.c.engagement).label("engagement"),
            greatest(session, ia.last_post_at, c.c.last_post_at).label("last_post_at"),
        )
        .join(c, c.c.author_id == ia.author_id)
        .where(*mine)
        .subquery("recounted")
    )
    # The stored column's own expression, over the recounted columns of the same names.
    rebased = select(*recounted.c, literal_column(BASE_PRIORITY, Float).label("base"))
    kept = stored.where(~_among(session, ia.author_id, relabelled))
    return union_all(kept, rebased).subquery("rows"), kept.subquery("stored")


def _activity_columns(rows: Any) -> list[Any]:
    mean = case((rows.c.posts > 0, rows.c.p_negative_sum / cast(rows.c.posts, Float)))
    return [
        *(rows.c[k] for k in ("author_id", "platform", "followers", "posts", "negative_posts")),
        mean.label("mean_p_negative"),
        rows.c.engagement,
        rows.c.last_post_at,
    ]


def _epoch(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return func.date_part("epoch", column, type_=Float)


def priority(session: Session, rows: Any, now: datetime) -> Any:
    """`analysis.outreach.priorities` in SQL: the same 0-100 score, rounded to one decimal."""
    age_h = (literal(as_utc(now).timestamp(), Float) - _epoch(session, rows.c.last_post_at)) / 3600
    recency = func.power(0.5, greatest(session, age_h, 0.0) / WEIGHTS.recency_half_life_hours)
    return func.round((rows.c.base + RECENCY_POINTS * recency) * 10, type_=Float) / 10


def _ranked(session: Session, rows: Any, incident_id: int, now: datetime) -> Any:
    """Unhappy authors with their priority: the rows the filters apply to."""
    stmt = select(
        *_activity_columns(rows),
        rows.c.base,
        priority(session, rows, now).label("priority"),
        literal(incident_id).label("incident_id"),
    ).where(rows.c.negative_posts >= 1)
    return stmt.subquery("ranked")


def _incident_rows(session: Session, incident_id: int, model_version: str) -> tuple[Any, Any]:
    return _rows(session, window_of(get_incident(session, incident_id)), model_version)


def _status_in(ranked: Any, statuses: tuple[str, ...]) -> Any:
    """Support's status is one of `statuses` ("new": no outreach row yet, or set back to new).

    An (anti-)join the planner estimates well: with a filter on a left join's status it
    guessed a handful of rows and sorted every author instead of reading the index in order.
    """
    o = aliased(Outreach)
    mine = (o.incident_id == ranked.c.incident_id) & (o.author_id == ranked.c.author_id)
    if "new" in statuses:
        return ~select(o.id).where(mine, o.status.not_in(statuses)).exists()
    return select(o.id).where(mine, o.status.in_(statuses)).exists()


def _matching(
    ranked: Any, where: OutreachFilter, *, platforms: bool = True, status: Any = None
) -> list[Any]:
    """The filters as conditions; `status`: support's status where the caller joined it."""
    conditions = []
    if where.min_priority > 0:
        # The base alone never exceeds the priority: an index range narrows the rows first.
        floor = where.min_priority - RECENCY_POINTS
        conditions += [ranked.c.base >= floor, ranked.c.priority >= where.min_priority]
    if where.statuses:
        known = status is not None
        conditions.append(
            status.in_(where.statuses) if known else _status_in(ranked, where.statuses)
        )
    if platforms and where.platforms:
        conditions.append(ranked.c.platform.in_(where.platforms))
    if where.handle:
        conditions.append(Author.handle.icontains(where.handle, autoescape=True))
    return conditions


def _filtered(ranked: Any, where: OutreachFilter) -> Any:
    stmt = select(ranked).where(*_matching(ranked, where))
    return stmt.join(Author, Author.id == ranked.c.author_id) if where.handle else stmt


def _bound(session: Session, ranked: Any, where: OutreachFilter, limit: int) -> float | None:
    """A base priority below which no author can reach the first `limit` (None: read all).

    The `limit` highest bases already have priorities of at least their lowest priority P;
    recency adds at most `RECENCY_POINTS`, so a base under P minus that can never beat them
    (so no author left out can even tie with P).
    """
    top = _filtered(ranked, where).order_by(ranked.c.base.desc()).limit(limit).subquery()
    lowest, n = session.execute(select(func.min(top.c.priority), func.count())).one()
    # Priorities are rounded to a tenth: one may sit up to 0.05 above its exact value.
    return None if n < limit else float(lowest) - RECENCY_POINTS - 0.1


def top_incident_authors(
    session: Session,
    incident_id: int,
    *,
    model_version: str,
    now: datetime,
    where: OutreachFilter,
    limit: int | None,
) -> pd.DataFrame:
    """The `limit` highest priorities among an incident's unhappy authors that match `where`.

    Two reads: a bound from the highest stored base priorities, then only the authors above
    it, by their index. Names and support's notes are read for the rows returned; ties go to
    the most recent poster.
    """
    rows, stored = _incident_rows(session, incident_id, model_version)
    ranked = _ranked(session, rows, incident_id, now)
    inner = _filtered(ranked, where)
    # Any `limit` authors bound the rest: the stored ones alone are read in index order.
    plain = _ranked(session, stored, incident_id, now)
    if limit is not None and (bound := _bound(session, plain, where, limit)) is not None:
        inner = inner.where(ranked.c.base >= bound)
    order = (ranked.c.priority.desc(), ranked.c.last_post_at.desc(), ranked.c.author_id)
    top = inner.order_by(*order).limit(limit).subquery("top")
    o = Outreach
    stmt = (
        select(
            *(top.c[k] for k in ACTIVITY_COLUMNS),
            top.c.priority,
            func.coalesce(o.status, "new").label("status"),
            o.assignee,
            o.note,
            *(getattr(Author, k) for k in AUTHOR_COLUMNS),
        )
        .join(Author, Author.id == top.c.author_id)
        .outerjoin(o, (o.incident_id == incident_id) & (o.author_id == top.c.author_id))
        .order_by(top.c.priority.desc(), top.c.last_post_at.desc(), top.c.author_id)
    )
    return _frame(session, stmt)


def _frame(session: Session, stmt: Any) -> pd.DataFrame:
    keys, rows = driver_rows(session, stmt)
    frame = pd.DataFrame.from_records(rows, columns=keys)
    if "priority" in frame:
        frame["priority"] = frame["priority"].astype(float)
    frame["verified"] = frame["verified"].astype(bool)
    frame["last_post_at"] = pd.to_datetime(frame["last_post_at"], utc=True, format="ISO8601")
    return frame


def incident_author_counts(
    session: Session,
    incident_id: int,
    *,
    model_version: str,
    now: datetime,
    where: OutreachFilter,
) -> dict[str, Any]:
    """Unhappy authors, those not contacted yet and those matching `where`, with the platforms."""
    ranked = _ranked(
        session, _incident_rows(session, incident_id, model_version)[0], incident_id, now
    )
    o = Outreach
    status = func.coalesce(o.status, "new")
    matching = _matching(ranked, where, platforms=False, status=status)
    stmt = (
        select(
            ranked.c.platform,
            func.count(),
            func.count(case((status == "new", 1))),
            func.count(case((and_(true(), *matching), 1))),
        )
        .outerjoin(o, (o.incident_id == incident_id) & (o.author_id == ranked.c.author_id))
        .group_by(ranked.c.platform)
    )
    if where.handle:
        stmt = stmt.join(Author, Author.id == ranked.c.author_id)
    counts = {str(p): (int(n), int(new), int(m)) for p, n, new, m in session.execute(stmt)}
    chosen = [p for p in counts if not where.platforms or p in where.platforms]
    return {
        "authors": sum(n for n, _, _ in counts.values()),
        "not_contacted": sum(new for _, new, _ in counts.values()),
        "matching": sum(counts[p][2] for p in chosen),
        "platforms": sorted(counts),
    }


def incident_author_activity(
    session: Session, incident_id: int, *, model_version: str, min_negative: int = 1
) -> pd.DataFrame:
    """Every author of an incident with `min_negative` negative posts: `outreach_authors`' frame.

    Read from the incident's author rows, so it costs one row per author, not one per post.
    """
    rows, _ = _incident_rows(session, incident_id, model_version)
    columns = _activity_columns(rows)
    stmt = (
        select(
            *columns[:2],
            Author.handle,
            Author.display_name,
            columns[2],
            Author.verified,
            *columns[3:],
        )
        .join(Author, Author.id == rows.c.author_id)
        .where(rows.c.negative_posts >= min_negative)
    )
    return _frame(session, stmt)
