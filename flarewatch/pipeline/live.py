"""Save the Mastodon and X streams in micro-batches: posts, deletions, cursors and health together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine

from flarewatch.collectors.live import LiveEvent, LiveStream, Received, Removed, State
from flarewatch.collectors.watch import Watch, scrub
from flarewatch.config import ConfigError
from flarewatch.domain import RawPost
from flarewatch.pipeline.ingest import for_query
from flarewatch.pipeline.stream import StreamStats, flush_every, make_stream
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

log = logging.getLogger(__name__)


class Listener(Protocol):
    """What the supervisor runs for each stream source."""

    stats: StreamStats

    async def run(self, stop: asyncio.Event) -> StreamStats:
        """Listen until `stop` is set, saving the last batch before returning."""
        ...


@dataclass
class _Batch:
    posts: dict[tuple[str, str], RawPost]
    deletes: dict[str, list[str]]
    cursors: dict[str, str]
    state: str
    error: str | None
    lag: float | None


@dataclass
class LiveIngest:
    """Run a blocking stream client in a thread and save what it hands over every few seconds.

    Events are taken in order and a batch holds every event taken before it, so a cursor is
    saved only with (or after) the posts it passes; the upsert absorbs what a gap fill repeats.
    """

    engine: Engine
    stream: LiveStream
    flush_seconds: float = 2.0
    flush_posts: int = 500
    on_saved: Callable[[int], Any] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    stats: StreamStats = field(default_factory=StreamStats)
    _posts: dict[tuple[str, str], RawPost] = field(default_factory=dict)
    _deletes: dict[str, list[str]] = field(default_factory=dict)
    _cursors: dict[str, str] = field(default_factory=dict)
    _error: str | None = None
    _dirty: bool = True

    async def run(self, stop: asyncio.Event) -> StreamStats:
        """Listen until `stop` is set; the last batch and cursors are saved before returning."""
        cursors = await asyncio.to_thread(self._load_cursors)
        events: asyncio.Queue[LiveEvent] = asyncio.Queue()
        loop, halt = asyncio.get_running_loop(), threading.Event()

        def emit(event: LiveEvent) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: we are stopping
                loop.call_soon_threadsafe(events.put_nowait, event)

        # A daemon: a client blocked in a read must not hold the process when it exits.
        worker = threading.Thread(
            target=self._guarded, args=(emit, cursors, halt), name=self.stream.source, daemon=True
        )
        worker.start()
        lock = asyncio.Lock()
        flusher = asyncio.create_task(flush_every(self._flush, self.flush_seconds, stop, lock))
        try:
            while not stop.is_set() and worker.is_alive():
                with contextlib.suppress(TimeoutError):
                    self._take(await asyncio.wait_for(events.get(), timeout=0.2))
                if len(self._posts) + len(self._deletes) >= self.flush_posts:
                    await self._flush(lock)
        finally:
            halt.set()
            flusher.cancel()
            while not events.empty():
                self._take(events.get_nowait())
            self.stats.state, self._dirty = "stopped", True
            await self._flush(lock)
        return self.stats

    def _guarded(self, emit: Any, cursors: Mapping[str, str | None], halt: threading.Event) -> None:
        try:
            self.stream.run(emit, cursors, halt)
        except ConfigError as exc:  # e.g. more rules than the access level allows
            log.error("%s: %s", self.stream.source, exc)
            emit(State("stopped", scrub(str(exc), self.env)[:300]))
        except Exception as exc:
            # A bug or a bad watch file: stop this stream loudly, keep what was taken.
            log.exception("%s: the stream failed", self.stream.source)
            emit(State("stopped", scrub(f"{type(exc).__name__}: {exc}", self.env)[:300]))

    def _load_cursors(self) -> dict[str, str | None]:
        with session_scope(self.engine) as session:
            return {k: queries.get_cursor(session, self.stream.source, k) for k in self.stream.keys}

    def _take(self, event: LiveEvent) -> None:
        self.stats.events += 1
        if isinstance(event, Received):
            self._received(event)
        elif isinstance(event, Removed):
            for external_id in event.external_ids:
                self._posts.pop((event.platform, external_id), None)
            self._deletes.setdefault(event.platform, []).extend(event.external_ids)
        elif isinstance(event, State):
            self.stats.state, self._dirty = event.state, True
            if event.error is not None:
                self._error = scrub(event.error, self.env)

    def _received(self, event: Received) -> None:
        for post in for_query(event.posts, event.query):
            self._posts[(post.platform, post.external_id)] = post
            self.stats.matched += 1
        if event.cursor is not None:
            self._cursors[event.key] = event.cursor
        if event.sent_at is not None:
            self.stats.lag_seconds = max(0.0, self.clock() - event.sent_at)

    async def _flush(self, lock: asyncio.Lock) -> None:
        async with lock:
            if not (self._posts or self._deletes or self._cursors or self._dirty):
                return
            batch = _Batch(
                self._posts, self._deletes, self._cursors, self.stats.shown_state(), self._error,
                self.stats.lag_seconds,
            )  # fmt: skip
            self._posts, self._deletes, self._cursors = {}, {}, {}
            self._error, self._dirty = None, False
            try:
                inserted = await asyncio.to_thread(self._save, batch)
            except Exception:
                # Kept for the next flush; the cursors stay put, so a crash replays them.
                log.exception("%s: saving a batch failed; retrying", self.stream.source)
                self._posts = {**batch.posts, **self._posts}
                for platform, ids in batch.deletes.items():
                    self._deletes[platform] = ids + self._deletes.get(platform, [])
                self._cursors = {**batch.cursors, **self._cursors}
                self._error = batch.error
                return
            self.stats.flushes += 1
        if inserted and self.on_saved is not None:
            self.on_saved(inserted)

    def _save(self, batch: _Batch) -> int:
        source = self.stream.source
        with session_scope(self.engine) as session:
            saved = queries.save_posts(session, list(batch.posts.values()))
            deleted = sum(queries.mark_removed(session, p, ids) for p, ids in batch.deletes.items())
            for key, cursor in batch.cursors.items():
                queries.set_cursor(session, source, key, cursor)
            queries.record_stream_state(
                session, source, batch.state, lag_seconds=batch.lag, error=batch.error,
                inserted=saved.inserted,
            )  # fmt: skip
        self.stats.inserted += saved.inserted
        self.stats.deleted += deleted
        return saved.inserted


def _mastodon(watch: Watch, env: Mapping[str, str]) -> LiveStream:
    from flarewatch.collectors import mastodon, mastodon_stream

    options = watch.sources["mastodon_stream"].options
    stream_options = mastodon_stream.MastodonStreamOptions.from_options(options)
    # Timelines need a token on most instances; hashtag streams do not.
    factory = mastodon.client_factory(env, search=bool(options.get("timelines")))
    channels = mastodon_stream.channels_of(watch.queries("mastodon_stream"))
    return mastodon_stream.MastodonStream(channels, factory, stream_options)


def _x(watch: Watch, env: Mapping[str, str]) -> LiveStream:
    from flarewatch.collectors import twitter, x_stream
    from flarewatch.config import require_secret

    config = watch.sources["x_stream"]
    options = x_stream.XStreamOptions.from_options(
        config.options, config.interval, config.max_pages
    )
    rules = x_stream.stream_rules(
        watch.brands, watch.queries("x_stream"), config.options, options.rule_length
    )
    search = twitter.XCollector(twitter.make_client(env), retry=x_stream.search_retrier())
    return x_stream.XStream(require_secret("X_BEARER_TOKEN", dict(env)), search, rules, options)


LIVE_BUILDERS: dict[str, Callable[[Watch, Mapping[str, str]], LiveStream]] = {
    "mastodon_stream": _mastodon,
    "x_stream": _x,
}


def make_listener(
    engine: Engine,
    watch: Watch,
    name: str,
    *,
    on_saved: Callable[[int], Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Listener:
    """Build the listener of stream source `name` from the watch file (a missing secret raises)."""
    if name not in LIVE_BUILDERS:
        return make_stream(engine, watch, name, on_saved=on_saved, env=env)
    creds = dict(env or {})
    options = watch.sources[name].options
    return LiveIngest(
        engine,
        LIVE_BUILDERS[name](watch, creds),
        flush_seconds=float(options.get("flush_seconds", 2.0)),
        flush_posts=int(options.get("flush_posts", 500)),
        on_saved=on_saved,
        env=creds,
    )
