"""Incident summaries over synthetic timeline frames."""

from __future__ import annotations

import pandas as pd

from flarewatch.analysis.compare import SUMMARY_COLUMNS, RecoveryParams, summarise_incident
from tests.conftest import T0


def frame(negative: list[int], start=T0) -> pd.DataFrame:
    index = pd.date_range(start, periods=len(negative), freq="60min", name="bucket")
    data = pd.DataFrame({"negative": negative, "unscored": 0}, index=index)
    data["total"] = data["negative"] + 2
    data["scored"] = data["total"] - data["unscored"]
    data["negative_share"] = data["negative"] / data["total"]
    return data


def hours(n: int) -> pd.Timedelta:
    return pd.Timedelta(hours=n)


def test_summarise_incident__one_calm_bucket_is_not_recovery():
    timeline = frame([1, 1, 1, 1, 9, 9, 1, 7, 1, 1, 1])
    summary = summarise_incident(timeline, T0 + hours(4), T0 + hours(6))
    assert list(summary) == SUMMARY_COLUMNS
    assert summary["back_to_baseline_at"] == T0 + hours(8)
    assert summary["time_to_baseline"] == hours(2)
    assert summary["posts"] == 9 + 9 + 4 and summary["negative_posts"] == 18


def test_summarise_incident__settle_of_one_takes_the_first_calm_bucket():
    timeline = frame([1, 1, 1, 1, 9, 9, 1, 7, 1, 1, 1])
    summary = summarise_incident(timeline, T0 + hours(4), T0 + hours(6), RecoveryParams(settle=1))
    assert summary["time_to_baseline"] == hours(0)


def test_summarise_incident__never_back_in_window():
    summary = summarise_incident(frame([1, 1, 9, 9, 9]), T0 + hours(2), T0 + hours(3))
    assert pd.isna(summary["back_to_baseline_at"]) and pd.isna(summary["time_to_baseline"])
    assert summary["peak_negative"] == 9 and summary["peak_at"] == T0 + hours(2)


def test_summarise_incident__open_incident_counts_volume_to_the_end():
    summary = summarise_incident(
        frame([0, 0, 3, 4]), T0 + hours(2) + pd.Timedelta(minutes=30), None
    )
    assert pd.isna(summary["duration"]) and pd.isna(summary["time_to_baseline"])
    assert summary["negative_posts"] == 7  # the bucket it opened in counts
    assert summary["baseline_negative"] == 0


def test_summarise_incident__empty_timeline():
    empty = frame([]).astype({"negative": int})
    summary = summarise_incident(empty, T0, T0 + hours(1))
    assert summary["posts"] == 0 and summary["peak_negative"] == 0
    assert pd.isna(summary["baseline_negative"]) and pd.isna(summary["time_to_baseline"])
