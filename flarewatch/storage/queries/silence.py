"""Read what silence detection learns from: post times per source and brand, last good runs."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flarewatch.storage.schema import Post, SourceHealth


def arrival_times(
    session: Session, *, since: datetime, until: datetime | None = None
) -> dict[tuple[str, str | None], list[datetime]]:
    """Creation times of the posts of each (platform, brand) since `since`, oldest first."""
    stmt = select(Post.platform, Post.brand, Post.created_at).where(Post.created_at >= since)
    if until is not None:
        stmt = stmt.where(Post.created_at <= until)
    times: dict[tuple[str, str | None], list[datetime]] = defaultdict(list)
    for platform, brand, created_at in session.execute(stmt.order_by(Post.created_at)):
        times[(platform, brand)].append(created_at)
    return dict(times)


def last_successes(session: Session) -> dict[str, datetime | None]:
    """Each source's last successful collection run."""
    rows = session.execute(select(SourceHealth.source, SourceHealth.last_success_at))
    return {source: at for source, at in rows}
