"""Soak test: replay-speed collection, parallel scoring workers and dashboard reads at once.

Runs for --minutes on one SQLite database (or --database-url) per worker count, counts posts,
scores and claims the moment every role has stopped (workers stop mid-stream, as a deploy would
stop them), then drains the backlog with one more worker and counts what was lost. Prints one JSON
object: per worker count, posts sent, stored and scored, throughput, lock errors, posts handed to
two workers and lost posts (the last three must be 0). Each run tags its posts, so a reused
database (PostgreSQL) is measured by differences.
Scoring uses an instant keyword stand-in unless --model names a real model: what is under test
is the storage under concurrency, not the model.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from flarewatch import api
from flarewatch.collectors.replay import ReplayOptions, parse_mapping, read_posts
from flarewatch.domain import RawPost
from flarewatch.models.base import SentimentPrediction
from flarewatch.pipeline.demo import DEMO_MAPPING, demo_path
from flarewatch.pipeline.score import WorkerOptions, score_pending
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade

PAGE = 200


class InstantScorer:
    """Keyword stand-in for the model, so the soak stresses the database, not the CPU."""

    version = "soak-keyword"

    def predict(
        self, texts: str | Sequence[str], batch_size: int = 32
    ) -> list[SentimentPrediction]:
        batch = [texts] if isinstance(texts, str) else texts
        neg = (0.8, 0.1, 0.1)
        return [
            SentimentPrediction.from_probs(neg if "delay" in t else (0.1, 0.8, 0.1)) for t in batch
        ]


def _is_lock_error(exc: OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text or "deadlock" in text


class _Stopped(Exception):
    """Raised between a worker's committed chunks once the soak is over."""


def _loop(name: str, stop: Any, results: Any, step: Callable[[], int]) -> None:
    done = errors = 0
    results.put({"role": name, "ready": True})
    while not stop.is_set():
        try:
            done += step()
        except OperationalError as exc:
            if not _is_lock_error(exc):
                raise
            errors += 1
        except _Stopped as stopped:
            done += stopped.args[0]
    results.put({"role": name, "done": done, "lock_errors": errors})


def collector(url: str, stop: Any, results: Any, tag: str) -> None:
    """Save pages of real posts with fresh ids and a cursor per page, as fast as possible."""
    engine = make_engine(url)
    base = read_posts(demo_path(), ReplayOptions(mapping=parse_mapping(DEMO_MAPPING), platform="x"))
    now = datetime.now(UTC)
    sent = 0

    def step() -> int:
        nonlocal sent
        page = [_fresh(base[(sent + i) % len(base)], sent + i, now, tag) for i in range(PAGE)]
        with session_scope(engine) as session:
            queries.save_posts(session, page)
            queries.set_cursor(session, "soak", "replay", page[-1].external_id)
        sent += PAGE
        return PAGE

    _loop("collector", stop, results, step)


def _fresh(post: RawPost, i: int, now: datetime, tag: str) -> RawPost:
    at = now - timedelta(hours=6) + timedelta(seconds=i * 0.5)
    return dataclasses.replace(post, external_id=f"soak-{tag}-{i}", created_at=at, brand="acme")


def scorer(url: str, stop: Any, results: Any, name: str, model: str | None) -> None:
    """Score as a `--worker`, polling for new posts; stop after the chunk in hand once told to."""
    engine = make_engine(url)
    model_scorer = _load(model)
    options = WorkerOptions(name, lease_seconds=60, poll_seconds=0.1)

    def step() -> int:
        committed = 0

        def progress(n: int) -> None:
            nonlocal committed
            committed += n
            if stop.is_set():  # leaves score_pending, which hands back its claims
                raise _Stopped(committed)

        done = score_pending(engine, model_scorer, chunk=256, worker=options, progress=progress)
        if not done:
            time.sleep(0.1)
        return done

    _loop(name, stop, results, step)


def _load(model: str | None) -> Any:
    if model is None:
        return InstantScorer()
    from flarewatch.models.transformer import load_scorer

    return load_scorer(model)


def dashboard(url: str, stop: Any, results: Any, version: str) -> None:
    """Run the dashboard's live queries (timeline, negative posts, outreach) in a loop."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        incident_id = queries.open_incident(session, "Soak", brand="acme").id

    def step() -> int:
        api.timeline(engine, brand="acme", bucket_minutes=15, model_version=version)
        api.negative_posts(engine, brand="acme", model_version=version)
        api.outreach(engine, incident_id, model_version=version)
        return 1

    _loop("dashboard", stop, results, step)


def _counts(engine: Any, version: str) -> dict[str, int]:
    with session_scope(engine) as session:
        return {
            "posts": queries.count_posts(session),
            "scores": queries.count_scores(session, version),
            "claims": queries.count_claims(session, version),
            # Timeline rollup buckets that disagree with the scores they count.
            "rollup_drift": queries.score_bucket_drift(session),
            "facet_drift": queries.facet_bucket_drift(session),
            "incident_author_drift": queries.incident_author_drift(session),
        }


def _roles(url: str, version: str, workers: int, model: str | None, tag: str) -> list[Any]:
    ctx = mp.get_context("fork")
    stop, results = ctx.Event(), ctx.Queue()
    roles: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
        (collector, (tag,)),
        (dashboard, (version,)),
        *[(scorer, (f"soak-{tag}-{i}", model)) for i in range(workers)],
    ]
    procs = [ctx.Process(target=f, args=(url, stop, results, *a)) for f, a in roles]
    return [stop, results, procs]


def run(url: str, seconds: float, workers: int, model: str | None) -> dict[str, Any]:
    """Run every role for `seconds`, count at stop, then drain with one worker and count losses."""
    engine = make_engine(url)
    upgrade(engine)
    version = _load(model).version
    before = _counts(engine, version)
    engine.dispose()  # no connection may cross the fork below
    stop, results, procs = _roles(url, version, workers, model, f"{time.time_ns():x}")
    for proc in procs:
        proc.start()
    for _ in procs:  # the clock starts once every role has loaded its data
        results.get(timeout=600)
    time.sleep(seconds)
    stop.set()
    reports = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    at_stop = _counts(engine, version)
    drainer = WorkerOptions("soak-drain", lease_seconds=60, poll_seconds=0.1)
    drained = score_pending(engine, _load(model), worker=drainer)
    after = _counts(engine, version)
    return _summary(reports, seconds, workers, before, at_stop, after, drained)


def _summary(
    reports: list[dict[str, Any]],
    seconds: float,
    workers: int,
    before: dict[str, int],
    at_stop: dict[str, int],
    after: dict[str, int],
    drained: int,
) -> dict[str, Any]:
    by_role = {r["role"]: r for r in reports}
    sent = by_role["collector"]["done"]
    by_workers = sum(r["done"] for n, r in by_role.items() if n.startswith("soak-"))
    stored = at_stop["posts"] - before["posts"]
    scored = at_stop["scores"] - before["scores"]
    return {
        "workers": workers,
        "seconds": seconds,
        "posts_sent": sent,
        "posts_stored": stored,
        # Counted when every role had stopped, before the drain below.
        "posts_processed": scored,
        "posts_per_second": round(scored / seconds, 1),
        "backlog_at_stop": stored - scored,
        "claims_at_stop": at_stop["claims"],
        "scored_by_workers": by_workers,
        "scored_by_drain": drained,
        "dashboard_refreshes": by_role["dashboard"]["done"],
        # Work done twice (a post handed to two workers); scores are stored once either way.
        "rescored_posts": by_workers - scored + (drained - (after["scores"] - at_stop["scores"])),
        "lock_errors": sum(r["lock_errors"] for r in reports),
        "lost_posts": (sent - stored) + (after["posts"] - after["scores"]),
        "rollup_drift_at_stop": at_stop["rollup_drift"],
        "rollup_drift_after_drain": after["rollup_drift"],
        "facet_drift_at_stop": at_stop["facet_drift"],
        "facet_drift_after_drain": after["facet_drift"],
        "incident_author_drift_at_stop": at_stop["incident_author_drift"],
        "incident_author_drift_after_drain": after["incident_author_drift"],
    }


def main() -> None:
    """Parse arguments, soak, print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[2], help="scoring workers; several: one run each"
    )
    parser.add_argument("--model", default=None, help="real model to score with (slow)")
    parser.add_argument("--database-url", default=None, help="default: a fresh temporary SQLite")
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'soak.db'}"
        runs = [run(url, args.minutes * 60, n, args.model) for n in args.workers]
        backend = url.split(":", 1)[0]
        print(json.dumps({"backend": backend, "runs": runs} if len(runs) > 1 else runs[0]))


if __name__ == "__main__":
    main()
