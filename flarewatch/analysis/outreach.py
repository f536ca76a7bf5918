"""Rank unhappy authors for a direct answer: negativity, repetition, reach, engagement, recency."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from flarewatch.domain import (
    ENGAGEMENT_SATURATES,
    REACH_SATURATES,
    REPETITION_SATURATES,
    PriorityWeights,
)

OUTREACH_COLUMNS = [
    "author_id",
    "platform",
    "handle",
    "display_name",
    "followers",
    "verified",
    "posts",
    "negative_posts",
    "mean_p_negative",
    "engagement",
    "last_post_at",
    "priority",
    "reason",
]


def _signals(frame: pd.DataFrame, now: datetime, w: PriorityWeights) -> dict[str, pd.Series]:
    age_h = ((now - frame["last_post_at"]).dt.total_seconds() / 3600).clip(lower=0.0)
    negative = frame["negative_posts"].fillna(0).astype(float)
    return {
        "negativity": frame["mean_p_negative"].fillna(0.0).astype(float),
        "repetition": (np.log1p(negative) / math.log1p(REPETITION_SATURATES)).clip(upper=1.0),
        "reach": (
            np.log10(1 + frame["followers"].fillna(0).astype(float)) / math.log10(REACH_SATURATES)
        ).clip(upper=1.0),
        "engagement": (
            np.log1p(frame["engagement"].fillna(0).astype(float)) / math.log1p(ENGAGEMENT_SATURATES)
        ).clip(upper=1.0),
        "recency": 0.5 ** (age_h / w.recency_half_life_hours),
    }


def priorities(
    frame: pd.DataFrame, now: datetime, weights: PriorityWeights | None = None
) -> pd.Series:
    """Each author's 0-100 outreach priority, for a frame of `author_activity` rows."""
    w = weights or PriorityWeights()
    signals = _signals(frame, now, w)
    total = sum(getattr(w, name) * value for name, value in signals.items())
    return (100 * total).round(1)


def _compact(n: pd.Series) -> pd.Series:
    """1234 → 1.2k, 2500000 → 2.5M, 999 → 999."""
    text = n.astype("int64").astype(str)
    for unit, size in (("k", 1e3), ("M", 1e6)):
        text = text.where(n < size, (n / size).map("{:.1f}".format) + unit)
    return text


def _age(minutes: pd.Series) -> pd.Series:
    hours, days = minutes // 60, minutes // 1440
    return pd.Series(
        np.select(
            [minutes < 60, minutes < 48 * 60],
            [minutes.astype(str) + " min ago", hours.astype(str) + " h ago"],
            days.astype(str) + " d ago",
        ),
        index=minutes.index,
    )


def reasons(frame: pd.DataFrame, now: datetime) -> pd.Series:
    """Say in words why each author ranks where they do."""
    negative = frame["negative_posts"].fillna(0).astype("int64")
    mean = frame["mean_p_negative"].fillna(0.0).astype(float)
    followers = frame["followers"].fillna(0).astype(float)
    engagement = frame["engagement"].fillna(0).astype(float)
    minutes = ((now - frame["last_post_at"]).dt.total_seconds() // 60).astype("int64")
    parts = [
        negative.astype(str) + " negative post" + np.where(negative != 1, "s", ""),
        ("; " + mean.map("{:.0%}".format) + " negative on average").where(mean > 0, ""),
        ("; " + _compact(followers) + " followers").where(followers > 0, ""),
        pd.Series(
            np.where(frame["verified"].fillna(False).astype(bool), "; verified", ""),
            index=frame.index,
        ),
        ("; " + _compact(engagement) + " interactions").where(engagement > 0, ""),
        "; last posted " + _age(minutes),
    ]
    text = parts[0]
    for part in parts[1:]:
        text = text + part  # element-wise on object arrays: no Python loop per author
    return text


def rank_authors(
    rows: pd.DataFrame | Iterable[Mapping[str, Any]],
    now: datetime,
    weights: PriorityWeights | None = None,
) -> pd.DataFrame:
    """Rank author activity (`storage.queries.outreach_authors`'s frame, or rows) by priority."""
    given = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    frame = given.reindex(columns=list(dict.fromkeys([*OUTREACH_COLUMNS, *given.columns])))
    if not frame.empty:
        frame["last_post_at"] = pd.to_datetime(frame["last_post_at"], utc=True)
        frame["priority"] = priorities(frame, now, weights)
        frame["reason"] = reasons(frame, now)
    return frame.sort_values(["priority", "last_post_at"], ascending=False, ignore_index=True)
