"""Outreach ranking in SQL: an incident's unhappy authors by priority, filtered and paged."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Float, Numeric, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session

from flarewatch.domain import (
    ENGAGEMENT_SATURATES,
    OTHER_LANGUAGE,
    REACH_SATURATES,
    REPETITION_SATURATES,
    OutreachFilter,
    PriorityWeights,
)
from flarewatch.storage.queries._sql import as_utc, created_between, driver_rows
from flarewatch.storage.queries.incident_authors import IncidentWindow, later, window_of
from flarewatch.storage.queries.incidents import get_incident
from flarewatch.storage.schema import (
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
STATE_COLUMNS = ["status", "assignee", "note"]


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
            func.sum(counted).label("posts"),
            func.sum(negative).label("negative_posts"),
            func.sum(counted * s.p_negative).label("p_negative_sum"),
            func.sum(counted * func.coalesce(s.engagement, 0)).label("engagement"),
            func.max(case((newly_counted, s.created_at))).label("last_post_at"),
        )
        .join(o, o.post_id == s.post_id)
        .where(s.model_version == model_version, s.author_id.is_not(None))
        .group_by(s.author_id)
    )
    return created_between(
        stmt, s.brand, s.created_at, window.brand, window.start, window.end
    ).subquery("corrections")


def _activity(window: IncidentWindow, model_version: str) -> Any:
    """Each author's counts in the incident under reviewers' labels (`outreach_authors`' rows)."""
    ia, c = IncidentAuthor, _corrections(window, model_version)
    posts = ia.posts + func.coalesce(c.c.posts, 0)
    p_sum = ia.p_negative_sum + func.coalesce(c.c.p_negative_sum, 0.0)
    stmt = (
        select(
            ia.author_id.label("author_id"),
            ia.platform.label("platform"),
            ia.followers.label("followers"),
            posts.label("posts"),
            (ia.negative_posts + func.coalesce(c.c.negative_posts, 0)).label("negative_posts"),
            case((posts > 0, p_sum / posts)).label("mean_p_negative"),
            (ia.engagement + func.coalesce(c.c.engagement, 0)).label("engagement"),
            later(ia.last_post_at, c.c.last_post_at).label("last_post_at"),
        )
        .outerjoin(c, c.c.author_id == ia.author_id)
        .where(ia.incident_id == window.id, ia.model_version == model_version)
    )
    return stmt.subquery("activity")


def _epoch(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return func.date_part("epoch", column, type_=Float)


def _at_most_one(value: Any) -> Any:
    return case((value > 1.0, 1.0), else_=value)


def priority(session: Session, act: Any, now: datetime, w: PriorityWeights) -> Any:
    """`analysis.outreach.priorities` in SQL: the same 0-100 score, rounded to one decimal."""
    one = literal(1.0, Float)
    age_h = (literal(as_utc(now).timestamp(), Float) - _epoch(session, act.c.last_post_at)) / 3600
    signals = {
        "negativity": func.coalesce(act.c.mean_p_negative, 0.0),
        "repetition": _at_most_one(
            func.ln(one + act.c.negative_posts) / math.log1p(REPETITION_SATURATES)
        ),
        "reach": _at_most_one(
            func.log10(one + func.coalesce(act.c.followers, 0)) / math.log10(REACH_SATURATES)
        ),
        "engagement": _at_most_one(
            func.ln(one + act.c.engagement) / math.log1p(ENGAGEMENT_SATURATES)
        ),
        "recency": func.power(0.5, case((age_h > 0, age_h), else_=0.0) / w.recency_half_life_hours),
    }
    total = sum((getattr(w, name) * value for name, value in signals.items()), literal(0.0))
    return func.round(cast(100 * total, Numeric), 1)


def _ranked(
    session: Session, incident_id: int, model_version: str, now: datetime, w: PriorityWeights
) -> Any:
    window = window_of(get_incident(session, incident_id))
    act = _activity(window, model_version)
    o = Outreach
    stmt = (
        select(
            *act.c,
            priority(session, act, now, w).label("priority"),
            func.coalesce(o.status, "new").label("status"),
            o.assignee.label("assignee"),
            o.note.label("note"),
        )
        .outerjoin(o, (o.incident_id == incident_id) & (o.author_id == act.c.author_id))
        .where(act.c.negative_posts >= 1)
    )
    return stmt.subquery("ranked")


def _matching(ranked: Any, where: OutreachFilter, *, platforms: bool = True) -> list[Any]:
    conditions = [ranked.c.priority >= where.min_priority]
    if where.statuses:
        conditions.append(ranked.c.status.in_(where.statuses))
    if platforms and where.platforms:
        conditions.append(ranked.c.platform.in_(where.platforms))
    if where.handle:
        conditions.append(Author.handle.icontains(where.handle, autoescape=True))
    return conditions


def top_incident_authors(
    session: Session,
    incident_id: int,
    *,
    model_version: str,
    now: datetime,
    weights: PriorityWeights,
    where: OutreachFilter,
    limit: int | None,
) -> pd.DataFrame:
    """The `limit` highest priorities among an incident's unhappy authors that match `where`.

    Authors' names are read for those rows only; ties go to the most recent poster.
    """
    ranked = _ranked(session, incident_id, model_version, now, weights)
    inner = select(ranked).where(*_matching(ranked, where))
    if where.handle:
        inner = inner.join(Author, Author.id == ranked.c.author_id)
    order = (ranked.c.priority.desc(), ranked.c.last_post_at.desc(), ranked.c.author_id)
    top = inner.order_by(*order).limit(limit).subquery("top")
    stmt = (
        select(top, Author.handle, Author.display_name, Author.verified)
        .join(Author, Author.id == top.c.author_id)
        .order_by(top.c.priority.desc(), top.c.last_post_at.desc(), top.c.author_id)
    )
    keys, rows = driver_rows(session, stmt)
    frame = pd.DataFrame.from_records(rows, columns=keys)
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
    weights: PriorityWeights,
    where: OutreachFilter,
) -> dict[str, Any]:
    """Unhappy authors, those not contacted yet and those matching `where`, with the platforms."""
    ranked = _ranked(session, incident_id, model_version, now, weights)
    matching = case((and_(*_matching(ranked, where, platforms=False)), 1))
    stmt = select(
        ranked.c.platform,
        func.count(),
        func.count(case((ranked.c.status == "new", 1))),
        func.count(matching),
    ).group_by(ranked.c.platform)
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
    act = _activity(window_of(get_incident(session, incident_id)), model_version)
    stmt = (
        select(
            act.c.author_id,
            act.c.platform,
            Author.handle,
            Author.display_name,
            act.c.followers,
            Author.verified,
            *(act.c[c] for c in ACTIVITY_COLUMNS[3:]),
        )
        .join(Author, Author.id == act.c.author_id)
        .where(act.c.negative_posts >= min_negative)
    )
    keys, rows = driver_rows(session, stmt)
    frame = pd.DataFrame.from_records(rows, columns=keys)
    frame["verified"] = frame["verified"].astype(bool)
    frame["last_post_at"] = pd.to_datetime(frame["last_post_at"], utc=True, format="ISO8601")
    return frame
