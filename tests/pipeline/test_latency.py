"""The short latency benchmark: the real `flarewatch run` on a fake Jetstream with one surge."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The benchmark replays real airline tweets: a checkout without the shared data skips it.
AIRLINES = ROOT.parent / "shared" / "data" / "airline-tweets" / "tweets.csv"


@pytest.mark.slow
@pytest.mark.skipif(not AIRLINES.exists(), reason="airline tweets not in ../shared/data")
def test_latency_short__one_surge_one_disconnect__delivered_once_one_alert(tmp_path):
    out = subprocess.run(
        [sys.executable, "benchmarks/latency.py", "--short", "--json", "--keep", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["events_per_s"] >= 250 and result["connections"] >= 2
    assert (result["lost"], result["duplicated"], result["unexpected"]) == (0, 0, 0)
    assert result["unscored"] == 0 and result["monitor_exit"] == 0
    [surge] = result["surges"]
    # One surge, one alert event (sent again each time it escalates as the surge grows).
    assert surge["alert_events"] == 1 and surge["alerts"] >= 1
    assert surge["onset_to_alert_s"] is not None
    assert result["false_alerts"] == 0
