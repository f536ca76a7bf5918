"""Kill -9 the scorer and the collector mid-batch, run them again: nothing lost, nothing doubled."""

from __future__ import annotations

import csv
import signal
from datetime import timedelta

import pytest

from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

from ..conftest import T0, make_post
from ..helpers.keyword_scorer import KeywordScorer
from .conftest import finish, start, wait_until

# Each test runs worker or collector processes.
pytestmark = pytest.mark.slow


def _seed(engine, n: int) -> None:
    with session_scope(engine) as s:
        queries.save_posts(s, [make_post(i, f"my flight is delayed #{i}") for i in range(n)])


def _scores(engine) -> tuple[int, int]:
    with session_scope(engine) as s:
        version = KeywordScorer.version
        return queries.count_scores(s, version), queries.count_unscored(s, version)


def _posts(engine) -> int:
    with session_scope(engine) as s:
        return queries.count_posts(s)


def _kill(process) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.parametrize(
    "mode", [[], ["--worker", "crashy", "--lease", "1"]], ids=["plain", "worker"]
)
def test_scorer__kill_9_mid_batch_then_rerun_scores_every_post_once(database, mode):
    n = 300
    _seed(database.engine, n)
    slow = start("run_scorer", database.url, *mode, "--chunk", "20", "--delay", "0.15")
    wait_until(lambda: _scores(database.engine)[0] >= 40)
    _kill(slow)
    scored, unscored = _scores(database.engine)
    assert 0 < scored < n and scored + unscored == n
    rerun = [*mode[:1], "rerun", "--lease", "1"] if mode else []
    result = finish(start("run_scorer", database.url, *rerun, "--chunk", "50"))
    assert result["scored"] == n - scored  # only what the killed process had not committed
    assert _scores(database.engine) == (n, 0)
    with session_scope(database.engine) as s:
        assert queries.count_claims(s, KeywordScorer.version) == 0


def _replay_file(path, n: int) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["external_id", "text", "created_at", "author"])
        for i in range(n):
            # Seven posts a second: most page boundaries fall inside runs of equal timestamps.
            at = T0 + timedelta(seconds=i // 7)
            writer.writerow([f"p{i}", f"site down again {i}", at.isoformat(), f"u{i % 50}"])


def test_collector__kill_9_mid_run_then_rerun_stores_every_post_once(database, tmp_path):
    n = 2000
    path = tmp_path / "posts.csv"
    _replay_file(path, n)
    slow = start("run_collector", database.url, str(path), "--page-size", "100", "--delay", "0.2")
    wait_until(lambda: _posts(database.engine) >= 300)
    _kill(slow)
    assert 0 < _posts(database.engine) < n
    finish(start("run_collector", database.url, str(path), "--page-size", "100"))
    assert _posts(database.engine) == n
    with session_scope(database.engine) as s:
        assert queries.count_posts(s, brand="acme") == n
