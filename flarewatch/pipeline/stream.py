"""Save a live stream in micro-batches: posts, deletions, cursor and health commit together."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from flarewatch.collectors.bluesky_stream import (
    BrandFilter,
    HandleChanged,
    HandleResolver,
    Jetstream,
    PostCreated,
    PostDeleted,
    StreamEvent,
    StreamOptions,
    public_client,
    to_raw_post,
)
from flarewatch.collectors.watch import Watch
from flarewatch.domain import RawPost
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

log = logging.getLogger(__name__)

SOURCE = "bluesky_stream"
CURSOR_KEY = "jetstream"
# A connected stream whose newest event is older than this is reported as lagging.
LAGGING_SECONDS = 30.0


@dataclass
class StreamStats:
    """What a stream did since it started."""

    events: int = 0
    matched: int = 0
    inserted: int = 0
    deleted: int = 0
    flushes: int = 0
    state: str = "connecting"
    lag_seconds: float | None = None

    def shown_state(self) -> str:
        """The state health shows: a connected stream whose newest event is old is lagging."""
        lag = self.lag_seconds
        if self.state == "connected" and lag is not None and lag > LAGGING_SECONDS:
            return "lagging"
        return self.state


async def flush_every(
    flush: Callable[[asyncio.Lock], Any], seconds: float, stop: asyncio.Event, lock: asyncio.Lock
) -> None:
    """Save a stream's micro-batch every `seconds` until `stop` is set."""
    while not stop.is_set():
        await asyncio.sleep(seconds)
        await flush(lock)


@dataclass
class _Batch:
    posts: dict[str, tuple[PostCreated, str]]
    deletes: list[str]
    cursor: int | None
    state: str
    error: str | None
    lag: float | None


@dataclass
class StreamIngest:
    """Consume a Jetstream subscription and save what matches a brand, every few seconds.

    The cursor saved with each batch is the newest event time read before the batch was taken,
    so it never passes a post that is not stored; a reconnect resumes from it (less the overlap),
    and the idempotent save absorbs the replayed events.
    """

    engine: Engine
    jetstream: Jetstream
    brands: BrandFilter
    resolver: HandleResolver | None = None
    flush_seconds: float = 2.0
    flush_posts: int = 500
    on_saved: Callable[[int], Any] | None = None
    clock: Callable[[], float] = time.time
    stats: StreamStats = field(default_factory=StreamStats)
    stored_cursor: int | None = None
    _posts: dict[str, tuple[PostCreated, str]] = field(default_factory=dict)
    _deletes: list[str] = field(default_factory=list)
    _seen: int | None = None
    _error: str | None = None
    _dirty: bool = True

    async def run(self, stop: asyncio.Event) -> StreamStats:
        """Listen until `stop` is set; the last batch and cursor are saved before returning."""
        self.stored_cursor = await asyncio.to_thread(self._load_cursor)
        self._seen = self.stored_cursor
        self.jetstream.on_status = self._status
        lock = asyncio.Lock()
        flusher = asyncio.create_task(flush_every(self._flush, self.flush_seconds, stop, lock))
        try:
            async for event in self.jetstream.events(lambda: self.stored_cursor, stop):
                self._take(event)
                if len(self._posts) + len(self._deletes) >= self.flush_posts:
                    await self._flush(lock)
        finally:
            flusher.cancel()
            self.stats.state = "stopped"
            self._dirty = True
            await self._flush(lock)
        return self.stats

    def _load_cursor(self) -> int | None:
        with session_scope(self.engine) as session:
            saved = queries.get_cursor(session, SOURCE, CURSOR_KEY)
        return int(saved) if saved else None

    def _status(self, state: str, error: str | None) -> None:
        self.stats.state, self._dirty = state, True
        if error is not None:
            self._error = error

    def _take(self, event: StreamEvent) -> None:
        self.stats.events += 1
        if event.time_us is not None:
            self._seen = max(self._seen or 0, event.time_us)
            self.stats.lag_seconds = max(0.0, self.clock() - event.time_us / 1e6)
        if isinstance(event, PostCreated):
            brand = self.brands.brand_of(event.record["text"])
            if brand is not None:
                self._posts[event.uri] = (event, brand)
                self.stats.matched += 1
        elif isinstance(event, PostDeleted):
            self._posts.pop(event.uri, None)
            self._deletes.append(event.uri)
        elif isinstance(event, HandleChanged) and self.resolver is not None:
            self.resolver.learn(event.did, event.handle)

    async def _flush(self, lock: asyncio.Lock) -> None:
        async with lock:
            moved = self._seen != self.stored_cursor
            if not (self._posts or self._deletes or moved or self._dirty):
                return
            batch = _Batch(
                self._posts, self._deletes, self._seen, self.stats.shown_state(), self._error,
                self.stats.lag_seconds,
            )  # fmt: skip
            self._posts, self._deletes, self._error, self._dirty = {}, [], None, False
            try:
                inserted = await asyncio.to_thread(self._save, batch)
            except Exception:
                # Kept for the next flush; the cursor stays put, so a crash replays them.
                log.exception("bluesky stream: saving a batch failed; retrying")
                self._posts = {**batch.posts, **self._posts}
                self._deletes = batch.deletes + self._deletes
                self._error = batch.error
                return
            self.stored_cursor = batch.cursor
            self.stats.flushes += 1
        if inserted and self.on_saved is not None:
            self.on_saved(inserted)

    def _posts_of(self, batch: _Batch) -> list[RawPost]:
        dids = {event.did for event, _ in batch.posts.values()}
        handles = self.resolver.resolve(dids) if self.resolver and dids else {}
        posts = []
        for event, brand in batch.posts.values():
            try:
                posts.append(to_raw_post(event, brand, handles.get(event.did)))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("bluesky stream: skipped %s: %s", event.uri, exc)
        return posts

    def _save(self, batch: _Batch) -> int:
        posts = self._posts_of(batch)
        with session_scope(self.engine) as session:
            saved = queries.save_posts(session, posts)
            deleted = queries.mark_removed(session, "bluesky", batch.deletes)
            if batch.cursor is not None:
                queries.set_cursor(session, SOURCE, CURSOR_KEY, str(batch.cursor))
            queries.record_stream_state(
                session, SOURCE, batch.state, lag_seconds=batch.lag, error=batch.error,
                inserted=saved.inserted,
            )  # fmt: skip
        self.stats.inserted += saved.inserted
        self.stats.deleted += deleted
        return saved.inserted


def make_stream(
    engine: Engine,
    watch: Watch,
    name: str,
    *,
    on_saved: Callable[[int], Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> StreamIngest:
    """Build the ingest of stream source `name` from the watch file."""
    if name != SOURCE:
        raise ValueError(f"unknown stream source {name!r}")
    options = watch.sources[name].options
    brands = BrandFilter([(q.brand, q.matcher) for q in watch.queries(name)])
    appview = str(options.get("appview", "")) or None
    resolver = HandleResolver(public_client(appview) if appview else public_client())
    return StreamIngest(
        engine,
        Jetstream(StreamOptions.from_options(options)),
        brands,
        resolver,
        flush_seconds=float(options.get("flush_seconds", 2.0)),
        flush_posts=int(options.get("flush_posts", 500)),
        on_saved=on_saved,
    )
