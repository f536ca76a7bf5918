"""Spike detection on constructed series, outreach ranking and the spreadsheet-safe export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from flarewatch.analysis.outreach import rank_authors
from flarewatch.analysis.spikes import SpikeParams, detect_spikes
from flarewatch.render.export import outreach_csv

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _series(values) -> pd.Series:
    index = pd.date_range("2026-03-01", periods=len(values), freq="15min", tz="UTC")
    return pd.Series(values, index=index)


def test_detect_spikes__finds_injected_spike_with_peak_and_ratio():
    rng = np.random.default_rng(7)
    values = rng.poisson(6, 96)
    values[60:64] = [30, 45, 40, 25]
    spikes = detect_spikes(_series(values))
    assert len(spikes) == 1
    spike = spikes[0]
    assert spike.start == _series(values).index[60]
    assert spike.peak == _series(values).index[61]
    assert spike.observed == 45 and spike.ratio > 5 and spike.severity > 4


def test_detect_spikes__noise_alone_raises_nothing():
    rng = np.random.default_rng(11)
    assert detect_spikes(_series(rng.poisson(8, 400))) == []


def test_detect_spikes__needs_history_and_min_count():
    assert detect_spikes(_series([0, 0, 9, 0])) == []  # too little history
    quiet = [0] * 30 + [3] + [0] * 5  # three posts on a silent night are not an incident
    assert detect_spikes(_series(quiet), SpikeParams(min_count=5)) == []


def _author(aid, negative, mean_p, followers, minutes_ago, engagement=0):
    return {
        "author_id": aid,
        "platform": "x",
        "handle": f"h{aid}",
        "display_name": None,
        "followers": followers,
        "verified": False,
        "posts": negative,
        "negative_posts": negative,
        "mean_p_negative": mean_p,
        "engagement": engagement,
        "last_post_at": NOW - timedelta(minutes=minutes_ago),
    }


def test_rank_authors__orders_by_negativity_repetition_reach_recency():
    rows = [
        _author(1, 1, 0.55, 10, 600),  # mildly negative once, long ago, tiny reach
        _author(2, 4, 0.95, 50_000, 10, engagement=300),  # angry, repeated, big reach, recent
        _author(3, 1, 0.9, 200, 20),
    ]
    ranked = rank_authors(rows, NOW)
    assert list(ranked["author_id"]) == [2, 3, 1]
    assert ranked["priority"].between(0, 100).all()
    assert ranked.loc[0, "reason"] == (
        "4 negative posts; 95% negative on average; 50.0k followers; 300 interactions; "
        "last posted 10 min ago"
    )


def test_outreach_csv__neutralises_formulas_and_drops_post_text():
    table = pd.DataFrame(
        [
            {
                "handle": '=HYPERLINK("http://evil")',
                "note": "+1 call back",
                "assignee": "@sam",
                "reason": "-5 points",
                "latest_post": "secret text",
                "latest_url": "https://x.com/a/status/1",
                "priority": 90.0,
            }
        ]
    )
    rows = list(csv.DictReader(io.StringIO(outreach_csv(table).decode())))
    assert rows[0]["handle"].startswith("'=")
    assert rows[0]["note"] == "'+1 call back" and rows[0]["assignee"] == "'@sam"
    assert rows[0]["reason"] == "'-5 points"
    assert "latest_post" not in rows[0]
    assert rows[0]["latest_url"] == "https://x.com/a/status/1"
