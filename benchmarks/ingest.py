"""Bulk-ingest benchmark: upsert real post texts with fresh ids and print posts per second as JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from flarewatch.collectors.replay import ReplayOptions, parse_mapping, read_posts
from flarewatch.demo import DEMO_MAPPING, demo_path
from flarewatch.domain import RawPost
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade

SUPPORT_MAPPING = "external_id=tweet_id,author=author_id,created_at=created_at"


def source_posts(extra: list[Path]) -> list[RawPost]:
    """Real posts: the packaged airline tweets plus any customer-support CSVs given."""
    posts = read_posts(
        demo_path(), ReplayOptions(mapping=parse_mapping(DEMO_MAPPING), platform="x")
    )
    for path in extra:
        posts += read_posts(
            path, ReplayOptions(mapping=parse_mapping(SUPPORT_MAPPING), platform="x")
        )
    return posts


def fresh_posts(base: list[RawPost], n: int, offset: int) -> Iterator[RawPost]:
    """Repeat `base` with fresh post ids; authors repeat, as they do in real streams."""
    for i in range(n):
        yield dataclasses.replace(base[i % len(base)], external_id=f"bench-{offset + i}")


def run(url: str, n: int, batch: int, extra: list[Path]) -> dict[str, object]:
    """Upsert `n` posts in transactions of `batch` and time the whole load."""
    engine = make_engine(url)
    upgrade(engine)
    base = source_posts(extra)
    posts = list(fresh_posts(base, n, offset=0))
    started, cpu_started = time.perf_counter(), time.process_time()
    inserted = 0
    for start in range(0, n, batch):
        with session_scope(engine) as session:
            inserted += queries.save_posts(session, posts[start : start + batch]).inserted
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    engine.dispose()
    return {
        "posts": n,
        "inserted": inserted,
        "batch": batch,
        "seconds": round(seconds, 3),
        "posts_per_s": round(n / seconds, 1),
        # On a shared machine wall time includes waiting for a core; CPU time does not.
        "cpu_seconds": round(cpu_seconds, 3),
        "posts_per_cpu_s": round(n / cpu_seconds, 1),
        "backend": url.split(":", 1)[0],
    }


def main() -> None:
    """Parse arguments, run the benchmark, print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000, help="posts per transaction")
    parser.add_argument("--database-url", default=None, help="default: a fresh temporary SQLite")
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="customer-support CSV (tweet_id,author_id,created_at,text) to add",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'ingest.db'}"
        print(json.dumps(run(url, args.posts, args.batch, args.extra)))


if __name__ == "__main__":
    main()
