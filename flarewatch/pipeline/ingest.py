"""Run collectors: save each page and its cursor in one transaction, record health, loop."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from flarewatch.collectors.backoff import RateLimited, Retrier, SourceError
from flarewatch.collectors.base import Collector
from flarewatch.collectors.watch import (
    STREAM_SOURCES,
    Query,
    SourceConfig,
    Watch,
    credentials,
    load_watch,
    scrub,
)
from flarewatch.config import ConfigError
from flarewatch.domain import RawPost
from flarewatch.pipeline.upkeep import refresh_planner_statistics
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.queries import SaveResult

log = logging.getLogger(__name__)
# Past this many new posts the planner's index statistics are stale enough to mislead it.
LARGE_IMPORT = 10_000


class CollectorBug(RuntimeError):
    """A collector failed in a way no source error explains: a bug, shown with its traceback."""


@dataclass
class RunResult:
    """What one run of one source did."""

    source: str
    received: int = 0
    inserted: int = 0
    pages: int = 0
    error: str | None = None
    retry_after: float | None = None


def describe(result: RunResult) -> str:
    """One line for the terminal: new and seen posts, or the (scrubbed) error."""
    line = (
        f"{result.source}: {result.inserted} new, {result.received} fetched, {result.pages} pages"
    )
    return f"{line}; failed: {result.error}" if result.error else line


def for_query(posts: list[RawPost], query: Query) -> list[RawPost]:
    """Tag posts with the query's brand, dropping those that mention it only in an exclude.

    Posts by the brand's own account on this source are marked as ours, whichever query found
    them, and kept even when they use an excluded word.
    """
    tagged = []
    for post in posts:
        own = _is_own(post, query.own_handle)
        if not own and query.matcher.excluded(post.text):
            continue
        brand = post.brand or query.brand
        if own != post.is_own or brand != post.brand:
            post = dataclasses.replace(post, brand=brand, is_own=own or post.is_own)
        tagged.append(post)
    return tagged


def _is_own(post: RawPost, own_handle: str | None) -> bool:
    handle = post.author.handle if post.author else None
    return bool(own_handle and handle and handle.lstrip("@").lower() == own_handle)


def collect_query(
    engine: Engine, collector: Collector, query: Query, result: RunResult, *, max_pages: int = 5
) -> None:
    """Fetch pages for one query; each page and its cursor commit together, or neither does."""
    with session_scope(engine) as session:
        since = queries.get_cursor(session, collector.source, query.key)
    pages = collector.fetch(query.key, since)
    try:
        for page in pages:
            with session_scope(engine) as session:
                saved = queries.save_posts(session, for_query(page.posts, query))
                queries.set_cursor(session, collector.source, query.key, page.cursor)
            result.received += saved.received
            result.inserted += saved.inserted
            result.pages += 1
            if result.pages >= max_pages:
                break
    finally:
        close = getattr(pages, "close", None)
        if close:
            close()


def collect_source(
    engine: Engine,
    collector: Collector,
    query_list: Sequence[Query],
    *,
    max_pages: int = 5,
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """Run every query of one source once and record the source's health.

    Source errors (rate limits, outages, rejected credentials) are recorded and returned;
    a configuration error is recorded and raised as is; anything else is a bug, recorded and
    raised as CollectorBug, so the command line never mistakes it for a user error.
    """
    result = RunResult(collector.source)
    try:
        for query in query_list:
            before = result.pages
            collect_query(engine, collector, query, result, max_pages=before + max_pages)
    except Exception as exc:
        result.error = scrub(f"{type(exc).__name__}: {exc}", env or {})
        if isinstance(exc, RateLimited):
            result.retry_after = exc.retry_after
        with session_scope(engine) as session:
            queries.record_source_failure(session, collector.source, result.error, result.inserted)
        if isinstance(exc, ConfigError):
            raise
        if not isinstance(exc, SourceError):
            raise CollectorBug(f"{collector.source}: unexpected {result.error}") from exc
        return result
    with session_scope(engine) as session:
        queries.record_source_success(session, collector.source, result.inserted)
    return result


def make_collector(
    name: str, config: SourceConfig, env: Mapping[str, str], retry: Retrier | None = None
) -> Collector:
    """Build the live collector of source `name`; a missing credential raises ConfigError."""
    retry = retry or Retrier()
    if name == "x":
        from flarewatch.collectors import twitter

        return twitter.XCollector(twitter.make_client(env), retry=retry)
    if name == "reddit":
        from flarewatch.collectors import reddit

        subreddits = config.options.get("subreddits", ["all"])
        return reddit.RedditCollector(reddit.make_client(env), subreddits, retry=retry)
    if name == "mastodon":
        from flarewatch.collectors import mastodon

        factory = mastodon.client_factory(env, search=bool(config.options.get("search")))
        return mastodon.MastodonCollector(factory, retry=retry)
    if name == "bluesky":
        from flarewatch.collectors import bluesky

        return bluesky.BlueskyCollector(bluesky.login(env), retry=retry)
    if name == "hackernews":
        from flarewatch.collectors.hackernews import HNCollector

        return HNCollector(retry=retry)
    raise ValueError(f"unknown source {name!r}")


@dataclass
class Scheduler:
    """Loop over sources, each on its own interval; rate limits push a source's next run."""

    engine: Engine
    watch: Watch
    collectors: Mapping[str, Collector]
    env: Mapping[str, str] = field(default_factory=dict)
    after_save: Callable[[RunResult], Any] | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    due: dict[str, float] = field(default_factory=dict)
    echo: Callable[[str], Any] | None = None
    stop: threading.Event | None = None

    def run_due(self) -> list[RunResult]:
        """Run every source whose time has come; returns their results."""
        results = []
        for name, collector in self.collectors.items():
            if self.due.get(name, 0.0) <= self.clock():
                results.append(self._run_one(name, collector))
        return results

    def _run_one(self, name: str, collector: Collector) -> RunResult:
        config = self.watch.sources[name]
        try:
            result = collect_source(
                self.engine,
                collector,
                self.watch.queries(name),
                max_pages=config.max_pages,
                env=self.env,
            )
        except Exception as exc:
            log.exception("%s: unexpected failure", name)
            result = RunResult(name, error=scrub(f"{type(exc).__name__}: {exc}", self.env))
        wait = max(config.interval, result.retry_after or 0.0)
        self.due[name] = self.clock() + wait
        if result.inserted and self.after_save:
            self.after_save(result)
        return result

    def run(self, cycles: int | None = None) -> None:
        """Run forever (or `cycles` times), sleeping until the next source is due."""
        done = 0
        while (cycles is None or done < cycles) and not self._stopped():
            for result in self.run_due():
                log.info(
                    "%s: %d new of %d, %s",
                    result.source,
                    result.inserted,
                    result.received,
                    result.error or "ok",
                )
                if self.echo:
                    self.echo(describe(result))
            done += 1
            if cycles is not None and done >= cycles:
                return
            wait = max(0.0, min(self.due.values(), default=0.0) - self.clock())
            if self.stop is not None:
                self.stop.wait(wait)
            else:
                self.sleep(wait)

    def _stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()


def collect_once(
    engine: Engine, watch_file: str, name: str, env: Mapping[str, str] | None = None
) -> RunResult:
    """Run one source of the watch file once (`flarewatch collect SOURCE`)."""
    watch = load_watch(watch_file)
    if name not in watch.sources:
        raise ConfigError(f"source {name!r} is not enabled in {watch_file} (add [sources.{name}])")
    creds = credentials(env)
    collector = make_collector(name, watch.sources[name], creds)
    return collect_source(
        engine, collector, watch.queries(name), max_pages=watch.sources[name].max_pages, env=creds
    )


def _collectors(
    engine: Engine, watch: Watch, creds: Mapping[str, str], echo: Callable[[str], Any]
) -> dict[str, Collector]:
    built = {}
    for name, config in watch.sources.items():
        if name in STREAM_SOURCES:
            continue  # listened to by the supervisor, not polled
        try:
            built[name] = make_collector(name, config, creds)
        except (ConfigError, SourceError) as exc:
            message = scrub(str(exc), creds)
            echo(f"{name}: skipped: {message}")
            with session_scope(engine) as session:
                queries.record_source_failure(session, name, message)
    return built


def run_watch(
    engine: Engine,
    watch_file: str,
    *,
    after_save: Callable[[RunResult], Any] | None = None,
    cycles: int | None = None,
    env: Mapping[str, str] | None = None,
    echo: Callable[[str], Any] = print,
) -> Scheduler:
    """Loop over every enabled source of the watch file (`flarewatch run`)."""
    watch, creds = load_watch(watch_file), credentials(env)
    collectors = _collectors(engine, watch, creds, echo)
    if not collectors:
        raise ConfigError(f"no source in {watch_file} could start")
    scheduler = Scheduler(engine, watch, collectors, creds, after_save=after_save, echo=echo)
    scheduler.run(cycles)
    return scheduler


def import_posts(engine: Engine, posts: Sequence[RawPost]) -> SaveResult:
    """Save posts from a file or another store; large imports refresh the planner's statistics."""
    with session_scope(engine) as session:
        result = queries.save_posts(session, posts)
    if result.inserted >= LARGE_IMPORT:
        refresh_planner_statistics(engine)
    return result
