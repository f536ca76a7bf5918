"""Rank unhappy authors for a direct answer: negativity, repetition, reach, engagement, recency."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

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


@dataclass(frozen=True)
class PriorityWeights:
    """How much each signal weighs in the 0-100 priority; they sum to 1."""

    negativity: float = 0.35
    repetition: float = 0.25
    reach: float = 0.20
    engagement: float = 0.10
    recency: float = 0.10
    recency_half_life_hours: float = 6.0


def _signals(row: Mapping[str, Any], now: datetime, w: PriorityWeights) -> dict[str, float]:
    age_h = max(0.0, (now - row["last_post_at"]).total_seconds() / 3600)
    return {
        "negativity": float(row.get("mean_p_negative") or 0.0),
        # Five negative posts already mean "keeps complaining"; more adds little.
        "repetition": min(1.0, math.log1p(row.get("negative_posts") or 0) / math.log1p(5)),
        "reach": min(1.0, math.log10(1 + (row.get("followers") or 0)) / 6),
        "engagement": min(1.0, math.log1p(row.get("engagement") or 0) / math.log1p(100)),
        "recency": 0.5 ** (age_h / w.recency_half_life_hours),
    }


def _compact(n: float) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(int(n))


def _age(now: datetime, then: datetime) -> str:
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    return f"{minutes // 60} h ago" if minutes < 48 * 60 else f"{minutes // 1440} d ago"


def explain(row: Mapping[str, Any], now: datetime) -> str:
    """Say in words why an author ranks where they do."""
    negative = int(row.get("negative_posts") or 0)
    parts = [f"{negative} negative post{'s' if negative != 1 else ''}"]
    if row.get("mean_p_negative"):
        parts.append(f"{row['mean_p_negative']:.0%} negative on average")
    if row.get("followers"):
        parts.append(f"{_compact(row['followers'])} followers")
    if row.get("verified"):
        parts.append("verified")
    if row.get("engagement"):
        parts.append(f"{_compact(row['engagement'])} interactions")
    parts.append(f"last posted {_age(now, row['last_post_at'])}")
    return "; ".join(parts)


def priority(
    row: Mapping[str, Any], now: datetime, weights: PriorityWeights | None = None
) -> float:
    """Return an author's 0-100 outreach priority."""
    w = weights or PriorityWeights()
    signals = _signals(row, now, w)
    return round(100 * sum(getattr(w, name) * value for name, value in signals.items()), 1)


def rank_authors(
    rows: Iterable[Mapping[str, Any]], now: datetime, weights: PriorityWeights | None = None
) -> pd.DataFrame:
    """Rank author activity rows (from `storage.queries.author_activity`) by outreach priority."""
    ranked = [
        {**row, "priority": priority(row, now, weights), "reason": explain(row, now)}
        for row in rows
    ]
    frame = pd.DataFrame(
        ranked, columns=list(dict.fromkeys([*OUTREACH_COLUMNS, *(ranked[0] if ranked else [])]))
    )
    return frame.sort_values(["priority", "last_post_at"], ascending=False, ignore_index=True)
