"""A few seconds of the soak benchmark: collection, scoring workers and dashboard reads at once."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT, Database

# Each test runs worker or collector processes.
pytestmark = pytest.mark.slow


def test_soak__short_run__counts_at_stop_no_lock_errors_loses_nothing(database: Database):
    out = subprocess.run(
        [
            sys.executable,
            "benchmarks/soak.py",
            "--minutes",
            "0.04",
            "--workers",
            "1",
            "3",
            "--database-url",
            database.url,
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    runs = json.loads(out.stdout)["runs"]
    assert [r["workers"] for r in runs] == [1, 3]
    for result in runs:
        assert result["posts_sent"] > 0 and result["dashboard_refreshes"] > 0
        assert result["posts_stored"] == result["posts_sent"]
        # Counted before the drain: what the workers did, and what they left, add up.
        assert 0 < result["posts_processed"] == result["scored_by_workers"]
        assert result["posts_processed"] + result["backlog_at_stop"] == result["posts_stored"]
        assert result["scored_by_drain"] == result["backlog_at_stop"]
        assert result["claims_at_stop"] == 0  # workers hand their claims back when stopped
        assert (result["lock_errors"], result["lost_posts"], result["rescored_posts"]) == (0, 0, 0)
        # The timelines' rollup counts exactly the stored scores, at stop and after the drain.
        assert (result["rollup_drift_at_stop"], result["rollup_drift_after_drain"]) == (0, 0)
