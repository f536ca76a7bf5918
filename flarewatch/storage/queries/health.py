"""Collector health and database upkeep."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    select,
    text,
)
from sqlalchemy.orm import Session

from flarewatch.storage.schema import (
    SourceHealth,
    utcnow,
)


def _health(session: Session, source: str) -> Any:

    row = session.get(SourceHealth, source)
    if row is None:
        row = SourceHealth(source=source, consecutive_failures=0, posts_collected=0)
        session.add(row)
    return row


def record_source_success(
    session: Session, source: str, inserted: int, at: datetime | None = None
) -> None:
    """Note a successful collection run of `source` that stored `inserted` new posts."""
    row = _health(session, source)
    row.last_success_at = row.updated_at = at or utcnow()
    row.consecutive_failures = 0
    row.posts_collected = (row.posts_collected or 0) + inserted


def record_source_failure(
    session: Session, source: str, error: str, inserted: int = 0, at: datetime | None = None
) -> None:
    """Note a failed run of `source` (`error` must already be free of secrets)."""
    row = _health(session, source)
    row.last_error_at = row.updated_at = at or utcnow()
    row.last_error = error[:1000]
    row.consecutive_failures = (row.consecutive_failures or 0) + 1
    row.posts_collected = (row.posts_collected or 0) + inserted


def record_stream_state(
    session: Session,
    source: str,
    state: str,
    *,
    lag_seconds: float | None = None,
    error: str | None = None,
    inserted: int = 0,
    at: datetime | None = None,
) -> None:
    """Note a stream's state (connected, reconnecting, lagging, polling, stopped) and its lag.

    `error` (free of secrets) counts as a failure; a connected, lagging or polling stream (one
    refused by the platform that polls instead) as a success.
    """
    row = _health(session, source)
    if error is not None:
        record_source_failure(session, source, error, inserted, at)
    elif state in ("connected", "lagging", "polling"):
        record_source_success(session, source, inserted, at)
    row.stream_state, row.lag_seconds = state, lag_seconds


def source_health(session: Session) -> list[dict[str, Any]]:
    """Return every source's health: last success and error, failures in a row, posts collected."""
    rows = session.scalars(select(SourceHealth).order_by(SourceHealth.source))
    return [
        {
            "source": r.source,
            "last_success_at": r.last_success_at,
            "last_error_at": r.last_error_at,
            "last_error": r.last_error,
            "consecutive_failures": r.consecutive_failures,
            "posts_collected": r.posts_collected,
            "stream_state": r.stream_state,
            "lag_seconds": r.lag_seconds,
        }
        for r in rows
    ]


def refresh_planner_statistics(session: Session) -> None:
    """Let the planner see current table sizes and selectivity (sampled: milliseconds to a second).

    PostgreSQL's autovacuum gets there too, but only after its next round; until then a freshly
    imported table looks empty and its first plans are wrong by orders of magnitude.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # A role that does not own the tables (the dashboard's) gets a warning, not an error.
        tables = "posts, sentiment_scores, authors, post_buckets, facet_buckets, incident_authors"
        session.execute(text(f"ANALYZE {tables}"))
    elif dialect == "sqlite":
        session.execute(text("PRAGMA analysis_limit=1000"))
        session.execute(text("ANALYZE"))
