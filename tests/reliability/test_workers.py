"""Parallel scoring workers: every post scored exactly once, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flarewatch.pipeline.score import WorkerOptions, score_pending
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.schema import utcnow

from ..conftest import make_post
from ..helpers.keyword_scorer import KeywordScorer
from .conftest import finish, start, wait_until

# Each test runs worker or collector processes.
pytestmark = pytest.mark.slow

TEXTS = ("flight delayed again", "thanks, great crew", "where is my bag", "worst app ever")


def _seed(engine, n: int) -> None:
    posts = [make_post(i, f"{TEXTS[i % 4]} #{i}", author=f"a{i % 37}") for i in range(n)]
    with session_scope(engine) as s:
        queries.save_posts(s, posts)


def _counts(engine) -> tuple[int, int, int]:
    version = KeywordScorer.version
    with session_scope(engine) as s:
        return (
            queries.count_scores(s, version),
            queries.count_unscored(s, version),
            queries.count_claims(s, version),
        )


def test_workers__four_processes_score_every_post_exactly_once(database, tmp_path):
    n = 400
    _seed(database.engine, n)
    args = ["--chunk", "20", "--delay", "0.02", "--barrier", str(tmp_path)]
    procs = [start("run_scorer", database.url, "--worker", f"w{i}", *args) for i in range(4)]
    wait_until(lambda: len(list(tmp_path.glob("ready-*"))) == 4)
    (tmp_path / "go").touch()
    results = [finish(p) for p in procs]
    per_worker = [r["scored"] for r in results]
    assert sum(per_worker) == n  # no post was handed to two workers
    assert sum(1 for c in per_worker if c) >= 2  # the work really was shared
    assert _counts(database.engine) == (n, 0, 0)


def test_claim_unscored__live_claim_is_not_handed_out_twice(database):
    _seed(database.engine, 10)
    lease = utcnow() + timedelta(minutes=5)
    with session_scope(database.engine) as s:
        first = queries.claim_unscored(s, "m", "w1", limit=6, lease_until=lease)
    with session_scope(database.engine) as s:
        second = queries.claim_unscored(s, "m", "w2", limit=6, lease_until=lease)
    assert len(first) == 6 and len(second) == 4
    assert not {i for i, _ in first} & {i for i, _ in second}


def test_claim_unscored__expired_claim_is_taken_over(database):
    _seed(database.engine, 3)
    with session_scope(database.engine) as s:
        queries.claim_unscored(s, "m", "dead", limit=3, lease_until=utcnow() - timedelta(seconds=1))
    with session_scope(database.engine) as s:
        taken = queries.claim_unscored(s, "m", "alive", limit=3, lease_until=utcnow())
    assert len(taken) == 3


def test_score_pending__worker_waits_out_a_dead_workers_lease(database):
    _seed(database.engine, 30)
    soon = utcnow() + timedelta(seconds=0.5)
    with session_scope(database.engine) as s:
        queries.claim_unscored(s, KeywordScorer.version, "dead", limit=10, lease_until=soon)
    worker = WorkerOptions("w1", lease_seconds=60, poll_seconds=0.1)
    done = score_pending(database.engine, KeywordScorer(), chunk=8, worker=worker)
    assert done == 30
    assert _counts(database.engine) == (30, 0, 0)
