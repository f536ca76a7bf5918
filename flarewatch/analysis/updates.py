"""Our public voice during an incident: when we went quiet for too long, and how updates landed."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

# How long each severity may go without a public update; a severity not named is never alarmed.
DEFAULT_SILENCE_LIMITS = {"SEV1": timedelta(minutes=30), "SEV2": timedelta(minutes=60)}
AROUND = timedelta(hours=1)


def parse_silence_limits(spec: str) -> dict[str, timedelta]:
    """Read "SEV1=30,SEV2=60" (minutes; 0 or "off" turns a severity off)."""
    limits: dict[str, timedelta] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, minutes = item.partition("=")
        if not sep or name.strip().upper() not in ("SEV1", "SEV2", "SEV3", "SEV4"):
            raise ValueError(f"silence limit {item!r}: expected SEV1..SEV4=MINUTES")
        value = minutes.strip().lower()
        if value in ("off", "0"):
            continue
        if not value.isdigit():
            raise ValueError(f"silence limit {item!r}: minutes must be a whole number or off")
        limits[name.strip().upper()] = timedelta(minutes=int(value))
    return limits


@dataclass(frozen=True)
class Silence:
    """The brand has said nothing since `since` (the incident's opening or our last update)."""

    since: datetime
    limit: timedelta
    silent_for: timedelta


def silence_due(
    *,
    severity: str,
    opened_at: datetime,
    last_update: datetime | None,
    now: datetime,
    negative_above_baseline: bool,
    alerted_since: datetime | None,
    limits: Mapping[str, timedelta] = DEFAULT_SILENCE_LIMITS,
) -> Silence | None:
    """The silence to alert about now, or None: once per stretch, only while people complain.

    A stretch starts at the later of the opening and the last public update; `alerted_since`
    is the start of the stretch already alerted (stored with the incident).
    """
    limit = limits.get(severity)
    if limit is None or not negative_above_baseline:
        return None
    since = max(opened_at, last_update) if last_update else opened_at
    if now - since <= limit or alerted_since == since:
        return None
    return Silence(since, limit, now - since)


def update_metrics(
    opened_at: datetime,
    end: datetime,
    updates: Sequence[datetime],
    frame: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Time to first update, how many and how often, the longest silence, sentiment around each.

    Args:
        opened_at: When the incident opened.
        end: When it was resolved (or now, while it is open).
        updates: When each public update went out.
        frame: The incident's timeline (`negative` and `scored` per bucket, indexed by bucket start)
            for the negative share in the hour before and after each update.
    """
    times = sorted(t for t in updates if opened_at <= t <= end)
    marks = [opened_at, *times, end]
    gaps = [b - a for a, b in itertools.pairwise(marks)]
    cadence = [b - a for a, b in itertools.pairwise(times)]
    return {
        "time_to_first_update": times[0] - opened_at if times else None,
        "updates": len(times),
        "median_cadence": pd.Series(cadence).median() if cadence else None,
        "longest_silence": max(gaps) if gaps else None,
        "around_updates": [_around(t, frame) for t in times] if frame is not None else [],
    }


def _share(frame: pd.DataFrame, start: datetime, end: datetime) -> float | None:
    index = pd.DatetimeIndex(frame.index)
    inside = frame.loc[(index >= pd.Timestamp(start)) & (index < pd.Timestamp(end))]
    scored = float(inside["scored"].sum()) if len(inside) else 0.0
    return float(inside["negative"].sum()) / scored if scored else None


def _around(at: datetime, frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "at": at,
        "negative_share_before": _share(frame, at - AROUND, at),
        "negative_share_after": _share(frame, at, at + AROUND),
    }
