"""Run one scoring process with the keyword scorer, for worker and crash tests.

Usage: python -m tests.helpers.run_scorer URL [--worker NAME] [--lease S] [--delay S] [--chunk N]
Prints one JSON line, {"worker": ..., "scored": N}, when it finishes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from flarewatch.pipeline.score import WorkerOptions, score_pending
from flarewatch.storage.engine import make_engine

from .keyword_scorer import KeywordScorer


def _wait_at_barrier(directory: Path, name: str) -> None:
    """Start together: interpreter start-up times differ by seconds on a busy machine."""
    (directory / f"ready-{name}").touch()
    while not (directory / "go").exists():
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--worker", default=None)
    parser.add_argument("--lease", type=float, default=300.0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per model batch")
    parser.add_argument("--chunk", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=25)
    parser.add_argument("--barrier", default=None, help="directory: say ready, wait for 'go'")
    args = parser.parse_args()
    if args.barrier:
        _wait_at_barrier(Path(args.barrier), args.worker or "plain")
    engine = make_engine(args.url)
    worker = (
        WorkerOptions(args.worker, lease_seconds=args.lease, poll_seconds=0.2)
        if args.worker
        else None
    )
    done = score_pending(
        engine,
        KeywordScorer(delay=args.delay),
        batch_size=args.batch_size,
        chunk=args.chunk,
        worker=worker,
    )
    print(json.dumps({"worker": args.worker, "scored": done}), flush=True)


if __name__ == "__main__":
    main()
