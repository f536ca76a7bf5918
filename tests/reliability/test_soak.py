"""A few seconds of the soak benchmark: collection, scoring workers and dashboard reads at once."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT

# Each test runs worker or collector processes.
pytestmark = pytest.mark.slow


def test_soak__short_run_has_no_lock_errors_and_loses_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'soak.db'}"
    out = subprocess.run(
        [
            sys.executable,
            "benchmarks/soak.py",
            "--minutes",
            "0.04",
            "--database-url",
            url,
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["posts_sent"] > 0 and result["dashboard_refreshes"] > 0
    assert result["posts_processed"] == result["posts_stored"] == result["posts_sent"]
    assert (result["lock_errors"], result["lost_posts"], result["rescored_posts"]) == (0, 0, 0)
