"""AppTest runs of the dashboard pages on a seeded database."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

import flarewatch.dashboard

APP = str(Path(flarewatch.dashboard.__file__).parent / "app.py")


def _run(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    if page:
        at.switch_page(str(Path(APP).parent / "app_pages" / page)).run()
    return at


def test_live__shows_timeline_with_spike_and_negative_posts(seeded_url):
    at = _run()
    assert not at.exception
    assert at.title[0].value == "App login outage"
    assert len(at.get("vega_lite_chart")) == 1
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spikes"] == "1"
    assert int(metrics["Negative"].replace(",", "")) == 120
    newest = at.dataframe[0].value
    assert len(newest) == 50 and set(newest["label"]) == {"negative"}


def test_outreach__ranks_authors_and_offers_csv(seeded_url):
    at = _run("outreach.py")
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 25 and set(table["status"]) == {"new"}
    assert table["priority"].is_monotonic_decreasing
    assert table.iloc[0]["negative_posts"] == 5 and table.iloc[-1]["negative_posts"] == 4
    assert "25 unhappy authors; 25 not contacted yet." in at.caption[0].value
    assert len(at.get("download_button")) == 1
