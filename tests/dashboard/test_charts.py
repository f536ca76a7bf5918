"""Dashboard charts: silent stretches are greyed on the timeline, so a gap is not read as calm."""

from __future__ import annotations

import pandas as pd

from flarewatch import api
from flarewatch.dashboard import charts


def _frame() -> pd.DataFrame:
    index = pd.date_range("2026-03-02", periods=8, freq="60min", tz="UTC", name="bucket")
    return pd.DataFrame({"negative": [3, 4, 0, 0, 0, 5, 4, 3], "total": [9] * 8}, index=index)


def test_timeline_chart__greys_silent_stretches():
    t = pd.Timestamp("2026-03-02 02:00", tz="UTC")
    silences = pd.DataFrame(
        [["x", "acme", t - pd.Timedelta(minutes=40), t, t + pd.Timedelta(hours=3)]],
        columns=api.STRETCH_COLUMNS,
    )
    spec = charts.timeline_chart(_frame(), [], 60, {}, silences=silences).to_dict()
    datasets = list(spec["datasets"].values())
    grey = [d for d in datasets if d and "silent" in d[0]]
    assert len(grey) == 1 and "x silent (no posts since 01:20)" in grey[0][0]["silent"]
    assert pd.Timestamp(grey[0][0]["end"]) == t + pd.Timedelta(hours=3)


def test_timeline_chart__without_silences_has_no_grey_stretch():
    spec = charts.timeline_chart(_frame(), [], 60, {}).to_dict()
    assert not [d for d in spec["datasets"].values() if d and "silent" in d[0]]
