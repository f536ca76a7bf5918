"""Read what silence detection learns from (post times, last good runs); keep what was alerted."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from flarewatch.storage.schema import Post, SilenceAlert, SourceHealth, utcnow

Feed = tuple[str, str | None]


def arrival_times(
    session: Session, *, since: datetime, until: datetime | None = None
) -> dict[Feed, list[datetime]]:
    """Creation times of the posts of each (platform, brand) since `since`, oldest first."""
    stmt = select(Post.platform, Post.brand, Post.created_at).where(Post.created_at >= since)
    if until is not None:
        stmt = stmt.where(Post.created_at <= until)
    times: dict[Feed, list[datetime]] = defaultdict(list)
    for platform, brand, created_at in session.execute(stmt.order_by(Post.created_at)):
        times[(platform, brand)].append(created_at)
    return dict(times)


def last_successes(session: Session) -> dict[str, datetime | None]:
    """Each source's last successful collection run."""
    rows = session.execute(select(SourceHealth.source, SourceHealth.last_success_at))
    return {source: at for source, at in rows}


def alerted_silences(session: Session) -> dict[Feed, dict[str, Any]]:
    """The open silent stretch already alerted per feed: start, silent_since, usual p95."""
    rows = session.scalars(select(SilenceAlert))
    return {
        (r.source, r.brand or None): {
            "start": r.stretch_start,
            "silent_since": r.silent_since,
            "usual_p95_seconds": r.usual_p95_seconds,
        }
        for r in rows
    }


def save_alerted_silences(session: Session, alerted: dict[Feed, dict[str, Any]]) -> None:
    """Replace the alerted stretches with `alerted` (shaped as `alerted_silences` returns)."""
    session.execute(delete(SilenceAlert))
    for (source, brand), stretch in alerted.items():
        session.add(
            SilenceAlert(
                source=source,
                brand=brand or "",
                stretch_start=stretch["start"],
                silent_since=stretch["silent_since"],
                usual_p95_seconds=stretch["usual_p95_seconds"],
                alerted_at=utcnow(),
            )
        )
