"""Summarise incidents from their timelines so they can be compared: peak, duration, recovery, volume."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from flarewatch.analysis.spikes import MAD_TO_SIGMA

SUMMARY_COLUMNS = [
    "duration",
    "peak_negative",
    "peak_at",
    "peak_negative_share",
    "baseline_negative",
    "back_to_baseline_at",
    "time_to_baseline",
    "posts",
    "negative_posts",
    "negative_share",
]


@dataclass(frozen=True)
class RecoveryParams:
    """When negativity counts as back to baseline.

    Args:
        tolerance: Robust standard deviations above the pre-incident median still counted as baseline.
        settle: Consecutive buckets that must stay at baseline (one quiet bucket is not recovery).
    """

    tolerance: float = 1.0
    settle: int = 2


def bucket_size(frame: pd.DataFrame) -> pd.Timedelta:
    """Return the spacing of an evenly spaced timeline frame (zero for fewer than two buckets)."""
    index = pd.DatetimeIndex(frame.index)
    return index[1] - index[0] if len(index) > 1 else pd.Timedelta(0)


def baseline_level(negative: pd.Series, params: RecoveryParams) -> tuple[float, float]:
    """Return the median of negative counts and the ceiling still counted as baseline.

    The ceiling is `median + tolerance * scale`, where scale is the robust deviation with the
    same Poisson floor that spike detection uses, so zero-count history still tolerates one post.
    """
    if negative.empty:
        return float("nan"), float("nan")
    values = negative.to_numpy(dtype=float)
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    scale = max(mad * MAD_TO_SIGMA, float(np.sqrt(max(median, 1.0))))
    return median, median + params.tolerance * scale


def back_to_baseline(after: pd.Series, ceiling: float, settle: int) -> pd.Timestamp | None:
    """Return the first bucket from which `settle` consecutive buckets stay at or below `ceiling`."""
    calm = (after <= ceiling).astype(int)
    settled = calm[::-1].rolling(settle, min_periods=settle).sum()[::-1] >= settle
    hits = settled[settled].index
    return hits[0] if len(hits) else None


def _as_ts(value: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


def _peak(frame: pd.DataFrame) -> dict[str, Any]:
    if frame.empty or not frame["negative"].any():
        return {"peak_negative": 0, "peak_at": pd.NaT, "peak_negative_share": float("nan")}
    peak_at = frame["negative"].idxmax()
    return {
        "peak_negative": int(frame.loc[peak_at, "negative"]),
        "peak_at": peak_at,
        "peak_negative_share": float(frame.loc[peak_at, "negative_share"]),
    }


def _volume(during: pd.DataFrame) -> dict[str, Any]:
    posts = int(during["total"].sum())
    negative = int(during["negative"].sum())
    scored = int(during["scored"].sum())
    return {
        "posts": posts,
        "negative_posts": negative,
        "negative_share": negative / scored if scored else float("nan"),
    }


def _recovery(
    frame: pd.DataFrame, opened: pd.Timestamp, resolved: pd.Timestamp | None, params: RecoveryParams
) -> dict[str, Any]:
    step = bucket_size(frame)
    median, ceiling = baseline_level(frame.loc[frame.index + step <= opened, "negative"], params)
    if resolved is None or np.isnan(ceiling):
        return {
            "baseline_negative": median,
            "back_to_baseline_at": pd.NaT,
            "time_to_baseline": pd.NaT,
        }
    after = frame.loc[frame.index >= resolved, "negative"]
    back = back_to_baseline(after, ceiling, params.settle)
    return {
        "baseline_negative": median,
        "back_to_baseline_at": back if back is not None else pd.NaT,
        "time_to_baseline": back - resolved if back is not None else pd.NaT,
    }


def summarise_incident(
    frame: pd.DataFrame,
    opened_at: datetime,
    resolved_at: datetime | None,
    params: RecoveryParams | None = None,
) -> dict[str, Any]:
    """Summarise one incident from the timeline of its window.

    Args:
        frame: A timeline frame (`api.timeline`) covering the incident's window: evenly spaced
            buckets with `negative`, `unscored`, `total` and `negative_share` columns.
        opened_at: When the incident was declared.
        resolved_at: When it was resolved; None while it is open.
        params: What counts as back to baseline.

    Returns:
        A dict with the keys of `SUMMARY_COLUMNS`: `duration` (declared, NaT while open);
        the peak negative bucket over the whole window (spikes often start before anyone
        declares an incident); `baseline_negative`, the median negative count per bucket
        before the incident opened; `back_to_baseline_at` and `time_to_baseline` after
        resolution (NaT while open or if it never settles in the window); and the volume of
        posts in buckets overlapping the declared incident (up to the window's end while open).
    """
    params = params or RecoveryParams()
    opened = _as_ts(opened_at)
    resolved = _as_ts(resolved_at) if resolved_at is not None else None
    step = bucket_size(frame)
    overlap = frame.index + step > opened
    if resolved is not None:
        overlap &= frame.index < resolved
    return {
        "duration": resolved - opened if resolved is not None else pd.NaT,
        **_peak(frame),
        **_recovery(frame, opened, resolved, params),
        **_volume(frame.loc[overlap]),
    }
