"""Headline numbers over timeline frames."""

from __future__ import annotations

import pandas as pd

from flarewatch.analysis.kpis import negative_share, recent_vs_before


def _frame():
    index = pd.date_range("2026-03-02 10:00", periods=4, freq="30min", tz="UTC", name="bucket")
    return pd.DataFrame(
        {"negative": [1, 1, 6, 3], "total": [10, 10, 10, 5], "scored": [10, 10, 8, 4]}, index=index
    )


def test_negative_share__counts_only_scored_posts():
    frame = _frame()
    assert negative_share(frame) == 11 / 32
    assert negative_share(frame, start=frame.index[2]) == 9 / 12
    assert negative_share(frame.iloc[0:0]) is None


def test_recent_vs_before__last_hour_against_pre_incident():
    frame = _frame()
    now = frame.index[-1] + pd.Timedelta(minutes=30)
    recent, before = recent_vs_before(frame, now, frame.index[2], pd.Timedelta(hours=1))
    assert (recent, before) == (9 / 12, 2 / 20)
