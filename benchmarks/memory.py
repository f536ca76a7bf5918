"""Incident memory: does "have we seen this before?" name the right past incident, and how fast?

Usage: python benchmarks/memory.py [--json] [--database-url URL] [--incidents 1000] [--timing-only]

Cases (tests/helpers/airline_memory.py): each airline's tweets that name exactly one complaint
(cancelled, baggage, delay, hold, refund, seat, website, attendant) are split in time; the
earlier 60% (plus a quarter of complaint-free tweets of the airline) become a past incident with
a short post-mortem, the later 40% (plus other complaint-free tweets) a new spike. Every post is
scored by the real default model, every past incident fingerprinted from its negative posts with
that model's `embed`, and each spike goes through `pipeline.memory.describe_spike`, the step the
monitor runs when a spike or early warning fires. `top1`/`top3`: share of spikes whose own past
incident ranks first / in the top three of its airline's past incidents.

Timing, on a separate database with `--incidents` past incidents of one brand, each with a
post-mortem and a fingerprint: `search_p95_ms` is `api.search_incidents` (full-text), and
`match_p95_ms` ranking every fingerprint against a new spike's (`similar_incidents`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flarewatch import api
from flarewatch.analysis.memory import Fingerprint
from flarewatch.pipeline.memory import describe_spike, embedder_name, similar_incidents
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.helpers.airline_memory import POSTMORTEMS, build, fire, load_tweets, rank_of, seed

WORDS = [
    "storm",
    "hub",
    "crew",
    "login",
    "database",
    "certificate",
    "queue",
    "cache",
    "deploy",
    "outage",
    "payment",
    "dns",
]


def accuracy(engine: api.Engine, model: Any) -> dict[str, Any]:
    """Fingerprint the past incidents, fire every held-out spike, and score the rankings."""
    past, cases = build(load_tweets())
    started = time.perf_counter()
    ids = seed(engine, past, cases, scorer=model)
    for incident_id in ids.values():
        api.fingerprint_incident(engine, incident_id, model)
    ranks, misses = [], []
    for case in cases:
        event_id = fire(engine, case)
        describe_spike(engine, event_id, model)
        matches = api.spike_matches(engine, event_id)
        rank = rank_of(matches, ids[f"{case.brand}/{case.complaint}"])
        ranks.append(rank)
        if rank != 1:
            misses.append({"case": f"{case.brand}/{case.complaint}", "got": matches[0]["title"]})
    return {
        "cases": len(cases),
        "past_incidents": len(past),
        "top1": round(sum(r == 1 for r in ranks) / len(ranks), 3),
        "top3": round(sum(r is not None and r <= 3 for r in ranks) / len(ranks), 3),
        "misses": misses,
        "accuracy_seconds": round(time.perf_counter() - started, 1),
    }


def _p95(samples: list[float]) -> float:
    return round(float(np.percentile(samples, 95)) * 1000, 2)


def timing(engine: api.Engine, model: Any, incidents: int, queries_run: int = 50) -> dict[str, Any]:
    """p95 of full-text search and of similarity ranking over `incidents` past incidents."""
    rng, name = random.Random(0), embedder_name(model)
    dim = len(model.embed(["probe"])[0])
    causes = [cause for cause, _ in POSTMORTEMS.values()]
    for i in range(incidents):
        row = api.open_incident(
            engine, f"Incident {i}: {rng.choice(WORDS)} {rng.choice(WORDS)}", brand="acme"
        )
        api.save_postmortem(
            engine,
            row.id,
            summary=" ".join(rng.sample(WORDS, 5)),
            root_cause=rng.choice(causes),
            fix=" ".join(rng.sample(WORDS, 3)),
        )
        vector = np.random.default_rng(i).normal(size=dim).astype(np.float32)
        with session_scope(engine) as session:
            queries.set_fingerprint(session, row.id, vector.tobytes(), rng.sample(WORDS, 4), name)
    search, match = [], []
    for k in range(queries_run):
        text = " ".join(rng.sample(WORDS, 1 + k % 2))
        started = time.perf_counter()
        api.search_incidents(engine, text, brand="acme")
        search.append(time.perf_counter() - started)
        query = Fingerprint(
            np.random.default_rng(10_000 + k).normal(size=dim), rng.sample(WORDS, 4), 50
        )
        started = time.perf_counter()
        similar_incidents(engine, query, brand="acme", model=name)
        match.append(time.perf_counter() - started)
    return {"incidents": incidents, "search_p95_ms": _p95(search), "match_p95_ms": _p95(match)}


def main() -> None:
    """Run the accuracy cases and the timing, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--database-url", default=None, help="an empty database (default: SQLite)")
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--timing-only", action="store_true", help="skip the accuracy cases")
    args = parser.parse_args()
    from flarewatch.models.transformer import load_scorer

    model = load_scorer("default")
    folder = Path(tempfile.mkdtemp(prefix="flarewatch-memory-"))
    cases_db = api.connect(args.database_url or f"sqlite:///{folder / 'cases.db'}")
    result: dict[str, Any] = {"model": model.version}
    if not args.timing_only:
        result |= accuracy(cases_db, model)
    timing_db = (
        api.connect(f"sqlite:///{folder / 'timing.db'}") if not args.database_url else cases_db
    )
    result |= {"backend": timing_db.dialect.name, **timing(timing_db, model, args.incidents)}
    print(json.dumps(result, indent=None if args.json else 2, default=str))


if __name__ == "__main__":
    main()
