"""Collector health and what each platform delivered lately."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine

from flarewatch.analysis.health import with_verdicts
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

HEALTH_COLUMNS = [
    "source",
    "last_success_at",
    "last_error_at",
    "last_error",
    "consecutive_failures",
    "posts_collected",
    "stream_state",
    "lag_seconds",
]
ACTIVITY_COLUMNS = ["platform", "posts", "last_collected_at", "last_post_at"]


def source_health(engine: Engine, *, now: datetime | None = None) -> pd.DataFrame:
    """Each source's health with its verdict (`state`: failing, stale or ok)."""
    with session_scope(engine) as session:
        frame = pd.DataFrame(queries.source_health(session))
    if frame.empty:
        return pd.DataFrame(columns=["source", "state", *HEALTH_COLUMNS[1:]])
    return with_verdicts(frame, now or datetime.now(UTC))


def platform_activity(engine: Engine, *, window: timedelta = timedelta(hours=24)) -> pd.DataFrame:
    """Posts per platform created over the last `window`, with the newest collected and post times."""
    since = datetime.now(UTC) - window
    with session_scope(engine) as session:
        rows = queries.platform_activity(session, since)
    return pd.DataFrame(rows, columns=ACTIVITY_COLUMNS)
