"""Per-author views of an incident window: activity totals and latest complaints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import (
    case,
    func,
    select,
)
from sqlalchemy.orm import Session

from flarewatch.domain import OTHER_LANGUAGE
from flarewatch.storage.queries._sql import (
    FEW_AUTHORS,
    chunks,
    driver_rows,
    effective_label,
    in_window,
    labelled,
    score_window,
)
from flarewatch.storage.schema import (
    Author,
    Post,
    SentimentScore,
)


def outreach_authors(
    session: Session,
    *,
    model_version: str,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    min_negative: int = 1,
) -> pd.DataFrame:
    """Aggregate each author's posts in a window: counts, negativity, reach, engagement, recency.

    Posts count once scored and not `other_language`, under a reviewer's label where set.
    A frame, one row per author with at least `min_negative` negative posts: an incident can
    bring tens of thousands, and columns are built several times faster than dicts.
    """
    totals = _author_totals(model_version, brand, start, end)
    stmt = select(
        Author.id.label("author_id"),
        Author.platform,
        Author.handle,
        Author.display_name,
        Author.followers,
        Author.verified,
        *(c for c in totals.c if c.key != "author_id"),
    ).join(totals, totals.c.author_id == Author.id)
    # Filtering outside the grouping (not HAVING) lets SQLite join authors as it groups.
    keys, rows = driver_rows(session, stmt.where(totals.c.negative_posts >= min_negative))
    frame = pd.DataFrame.from_records(rows, columns=keys)
    frame["verified"] = frame["verified"].astype(bool)
    frame["last_post_at"] = pd.to_datetime(frame["last_post_at"], utc=True, format="ISO8601")
    return frame


def _author_totals(
    model_version: str, brand: str | None, start: datetime | None, end: datetime | None
) -> Any:
    negative = case((effective_label() == "negative", 1), else_=0)
    stmt = (
        score_window(model_version, brand, start, end)
        .add_columns(
            SentimentScore.author_id.label("author_id"),
            func.count().label("posts"),
            func.sum(negative).label("negative_posts"),
            func.avg(SentimentScore.p_negative).label("mean_p_negative"),
            func.coalesce(func.sum(SentimentScore.engagement), 0).label("engagement"),
            func.max(SentimentScore.created_at).label("last_post_at"),
        )
        .where(effective_label() != OTHER_LANGUAGE, SentimentScore.author_id.is_not(None))
        .group_by(SentimentScore.author_id)
    )
    # Materialised: under a parallel join to the authors, PostgreSQL would otherwise compute
    # the whole aggregate once in every worker.
    return stmt.cte("author_totals").prefix_with("MATERIALIZED", dialect="postgresql")


def latest_negative_post(
    session: Session,
    author_ids_: Sequence[int],
    *,
    model_version: str,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[int, dict[str, Any]]:
    """Return each author's newest negative post (text and url) in the window.

    A page of authors costs a few milliseconds; every unhappy author of a big incident (tens of
    thousands) takes one pass over the window.
    """
    wanted = list(dict.fromkeys(author_ids_))
    if len(wanted) > FEW_AUTHORS:
        # Binding tens of thousands of ids would exceed PostgreSQL's parameter limit, and one
        # pass over the window is cheaper than many lists: filter here instead.
        batches: list[list[int] | None] = [None]
    else:
        batches = list(chunks(wanted))
    keep = set(wanted)
    found = {}
    for chunk in batches:
        stmt = _latest_negative(session, model_version, brand, start, end, chunk)
        for author, text_, url in driver_rows(session, stmt)[1]:
            if author in keep:
                found[int(author)] = {"text": text_, "url": url}
    return found


def _latest_negative(
    session: Session,
    model_version: str,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
    authors: list[int] | None,
) -> Any:
    picked = score_window(model_version, brand, start, end).where(
        labelled("negative"), SentimentScore.author_id.is_not(None)
    )
    if authors is not None:
        picked = picked.where(SentimentScore.author_id.in_(authors))
    texts = select(Post.author_id, Post.text, Post.url)
    newest = (SentimentScore.created_at.desc(), SentimentScore.post_id.desc())
    if session.get_bind().dialect.name == "postgresql":
        # DISTINCT ON is estimated from the authors' statistics; a row_number() = 1 filter is
        # guessed at a few rows, and tens of thousands of posts were then read one by one. The
        # posts' own window bounds (the scores' copies) let it hash-join the window's posts.
        found = picked.add_columns(SentimentScore.post_id).distinct(SentimentScore.author_id)
        found = found.order_by(SentimentScore.author_id, *newest).subquery()
        return in_window(texts.join(found, found.c.post_id == Post.id), brand, start, end)
    rank = func.row_number().over(partition_by=SentimentScore.author_id, order_by=newest)
    found = picked.add_columns(SentimentScore.post_id, rank.label("rank")).subquery()
    # IN rather than a join: SQLite then reads the posts in id order, page after page.
    return texts.where(Post.id.in_(select(found.c.post_id).where(found.c.rank == 1)))
