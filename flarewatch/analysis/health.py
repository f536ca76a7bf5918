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
    if stream == "polling" and not row["consecutive_failures"]:
        return "polling (stream refused)"
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


def with_silence(frame: pd.DataFrame, silent: dict[str, list[str]]) -> pd.DataFrame:
    """Mark sources that run fine but whose feeds went silent: "silent (brand, ...)".

    Args:
        frame: Health rows with their `state` verdicts.
        silent: Per source, the brands of its feeds that are silent now.
    """
    out = frame.copy()
    for index, row in out.iterrows():
        brands = silent.get(str(row["source"]))
        if brands and row["state"] == "ok":
            out.at[index, "state"] = f"silent ({', '.join(brands)})"
    return out
