"""One word on each collector source: failing, stale or ok."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

# A source that has not succeeded for this long is flagged even without errors.
STALE_AFTER = timedelta(hours=1)


def verdict(row: pd.Series, now: datetime) -> str:
    """One word on a source row (`consecutive_failures`, `last_success_at`): failing, stale or ok."""
    stream = row.get("stream_state")
    if stream in ("reconnecting", "lagging"):
        return stream  # a stream says at once what it is doing; no need to wait for staleness
    if row["consecutive_failures"]:
        return f"failing ({int(row['consecutive_failures'])} in a row)"
    last = row["last_success_at"]
    if pd.isna(last) or now - last > STALE_AFTER:
        return "stale"
    return "ok"


def with_verdicts(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """The health frame with a `state` column (the verdict) after the source name."""
    out = frame.copy()
    out.insert(1, "state", [verdict(row, now) for _, row in frame.iterrows()])
    return out
