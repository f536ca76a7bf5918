"""Run the replay collector page by page through the real runner, for crash tests.

Usage: python -m tests.helpers.run_collector URL FILE [--page-size N] [--delay S]
Each page and its cursor commit together; `delay` sleeps after each page.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator

from flarewatch.collectors.base import Page
from flarewatch.collectors.replay import ReplayCollector
from flarewatch.collectors.watch import Query
from flarewatch.pipeline.ingest import RunResult, collect_query
from flarewatch.storage.engine import make_engine


class SlowReplay(ReplayCollector):
    """A replay that pauses after each page, like a rate-limited API."""

    delay = 0.0

    def fetch(self, query: str = "", since: str | None = None) -> Iterator[Page]:
        for page in super().fetch(query, since):
            yield page
            time.sleep(self.delay)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("path")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    collector = SlowReplay(args.path, page_size=args.page_size)
    collector.delay = args.delay
    result = RunResult(collector.source)
    collect_query(
        make_engine(args.url), collector, Query("replay", "", "acme"), result, max_pages=10**9
    )
    print(json.dumps({"received": result.received, "inserted": result.inserted}), flush=True)


if __name__ == "__main__":
    main()
