"""Headline numbers over a sentiment timeline frame (as returned by `api.timeline`)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from flarewatch.domain import LABELS, OTHER_LANGUAGE


def negative_share(
    frame: pd.DataFrame, start: datetime | None = None, end: datetime | None = None
) -> float | None:
    """Negative posts over scored posts for buckets starting in [start, end); None if none scored."""
    rows = frame
    if start is not None:
        rows = rows[rows.index >= pd.Timestamp(start)]
    if end is not None:
        rows = rows[rows.index < pd.Timestamp(end)]
    scored = int(rows["scored"].sum())
    return float(rows["negative"].sum()) / scored if scored else None


def recent_vs_before(
    frame: pd.DataFrame, now: datetime, opened_at: datetime, recent: pd.Timedelta
) -> tuple[float | None, float | None]:
    """Negative share over the last `recent` before `now`, and before the incident opened."""
    return negative_share(frame, pd.Timestamp(now) - recent, now), negative_share(
        frame, end=opened_at
    )


def label_counts(long: pd.DataFrame, index: str) -> pd.DataFrame:
    """Pivot (index, label, count) rows into one column per label plus total, scored and share.

    Only posts with a sentiment count as scored: other-language and unscored posts are shown
    but left out of the negative share.
    """
    wide = long.pivot_table(index=index, columns="label", values="count", aggfunc="sum")
    wide = wide.reindex(columns=[*LABELS, OTHER_LANGUAGE, "unscored"]).fillna(0).astype(int)
    wide["total"] = wide.sum(axis=1)
    wide["scored"] = wide[list(LABELS)].sum(axis=1)
    wide["negative_share"] = (wide["negative"] / wide["scored"].where(wide["scored"] > 0)).fillna(
        0.0
    )
    wide.columns.name = None
    return wide


def complete_buckets(frame: pd.DataFrame, bucket_minutes: int, now: datetime) -> pd.DataFrame:
    """The rows of a bucketed frame whose bucket has ended by `now`.

    A bucket still filling up would read as a dip (calm, recovery); only complete ones count.
    """
    ends = frame.index + pd.Timedelta(minutes=bucket_minutes)
    return frame.loc[ends <= pd.Timestamp(now)]
