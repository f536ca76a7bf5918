"""Post-incident report (Markdown or self-contained HTML) and the "hold marketing" posture."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from flarewatch.analysis.compare import RecoveryParams, bucket_size, summarise_incident
from flarewatch.analysis.themes import Theme

HANDLED = ("contacted", "followed_up", "handed_off", "resolved", "ignored")


@dataclass(frozen=True)
class Posture:
    """Whether marketing should hold, and why."""

    hold: bool
    reason: str
    calm_since: datetime | None = None


@dataclass(frozen=True)
class IncidentReport:
    """Everything a post-incident report shows."""

    incident: dict[str, Any]
    summary: dict[str, Any]
    phases: pd.DataFrame
    themes: list[Theme]
    outreach: dict[str, Any]
    unanswered: pd.DataFrame
    posture: Posture
    timeline: pd.DataFrame = field(repr=False)
    # Answered share of priority authors, time to first answer, who was won back (recovery).
    answers: dict[str, Any] = field(default_factory=dict)
    # Our public updates (`analysis.updates.update_metrics`); empty when none were looked up.
    updates: dict[str, Any] = field(default_factory=dict)


def _ts(value: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


def baseline_share(frame: pd.DataFrame, opened_at: datetime) -> float:
    """Negative share of the scored posts before the incident opened (NaN without data)."""
    before = frame.loc[frame.index + bucket_size(frame) <= _ts(opened_at)]
    scored = before["scored"]
    return float(before["negative"].sum() / scored.sum()) if scored.sum() else float("nan")


def marketing_posture(
    frame: pd.DataFrame,
    opened_at: datetime,
    resolved_at: datetime | None,
    *,
    hold_after: timedelta = timedelta(hours=12),
    tolerance: float = 0.05,
) -> Posture:
    """Hold marketing while open, and after resolution until negative share has been calm.

    Calm means every bucket's negative share at most `tolerance` above the pre-incident share,
    for `hold_after` in a row, counted from resolution up to the end of `frame`.
    """
    if resolved_at is None:
        return Posture(True, "the incident is still open")
    base = baseline_share(frame, opened_at)
    if pd.isna(base):
        return Posture(True, "no pre-incident baseline to compare against")
    after = frame.loc[frame.index >= _ts(resolved_at)]
    hot = after.index[after["negative_share"] > base + tolerance]
    calm_since = (hot[-1] + bucket_size(frame)) if len(hot) else _ts(resolved_at)
    end = after.index[-1] + bucket_size(frame) if len(after) else _ts(resolved_at)
    if end - calm_since >= pd.Timedelta(hold_after):
        return Posture(
            False,
            f"negative share at baseline ({base:.0%}) since {calm_since:%Y-%m-%d %H:%M} UTC",
            calm_since.to_pydatetime(),
        )
    return Posture(True, f"negative share not yet back at baseline ({base:.0%}) for {hold_after}")


def phases(frame: pd.DataFrame, opened_at: datetime, resolved_at: datetime | None) -> pd.DataFrame:
    """Negative posts before, during and after the incident: total and mean per bucket."""
    opened = _ts(opened_at)
    resolved = _ts(resolved_at) if resolved_at else frame.index.max() + bucket_size(frame)
    parts = {
        "before": frame.loc[frame.index < opened],
        "during": frame.loc[(frame.index >= opened) & (frame.index < resolved)],
        "after": frame.loc[frame.index >= resolved],
    }
    rows = [
        {
            "phase": name,
            "buckets": len(part),
            "negative_posts": int(part["negative"].sum()),
            "negative_per_bucket": round(float(part["negative"].mean()), 2) if len(part) else 0.0,
            "negative_share": round(float(part["negative_share"].mean()), 3) if len(part) else 0.0,
        }
        for name, part in parts.items()
    ]
    return pd.DataFrame(rows).set_index("phase")


def outreach_completion(table: pd.DataFrame) -> dict[str, Any]:
    """Count unhappy authors by workflow status and the share support has handled."""
    counts = table["status"].value_counts().to_dict() if len(table) else {}
    handled = sum(int(counts.get(s, 0)) for s in HANDLED)
    total = len(table)
    return {
        "authors": total,
        **{s: int(counts.get(s, 0)) for s in ("new", *HANDLED)},
        "handled_share": round(handled / total, 3) if total else 1.0,
    }


def build_report(
    incident: dict[str, Any],
    frame: pd.DataFrame,
    themes: list[Theme],
    outreach: pd.DataFrame,
    *,
    hold_after: timedelta = timedelta(hours=12),
    unanswered: int = 10,
    answers: dict[str, Any] | None = None,
    updates: dict[str, Any] | None = None,
) -> IncidentReport:
    """Assemble the report of one incident from its timeline, themes and outreach table."""
    opened, resolved = incident["opened_at"], incident["resolved_at"]
    waiting = outreach.loc[outreach["status"] == "new"] if len(outreach) else outreach
    return IncidentReport(
        incident=incident,
        summary=summarise_incident(frame, opened, resolved, RecoveryParams()),
        phases=phases(frame, opened, resolved),
        themes=themes,
        outreach=outreach_completion(outreach),
        unanswered=waiting.head(unanswered),
        posture=marketing_posture(frame, opened, resolved, hold_after=hold_after),
        timeline=frame,
        answers=answers or {},
        updates=updates or {},
    )
