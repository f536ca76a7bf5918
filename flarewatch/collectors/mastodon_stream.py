"""Listen to Mastodon's streaming API per instance: hashtag and timeline streams, gap fills, deletes."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from mastodon import Mastodon, StreamListener
from mastodon import errors as mx

from flarewatch.collectors.backoff import Backoff, Retrier, SourceError
from flarewatch.collectors.cursor import newest_id
from flarewatch.collectors.live import Emit, Received, Reconnect, Removed, State
from flarewatch.collectors.mastodon import (
    TIMELINES,
    MastodonCollector,
    StatusUris,
    parse_query,
    statuses_to_posts,
)
from flarewatch.collectors.watch import Query
from flarewatch.config import ConfigError
from flarewatch.domain import RawPost, parse_time

log = logging.getLogger(__name__)

SOURCE = "mastodon_stream"
# What a connection can fail with; anything else is a bug and stops the monitor loudly.
CONNECTION_ERRORS = (mx.MastodonError, requests.RequestException, SourceError, OSError)


@dataclass(frozen=True)
class MastodonStreamOptions:
    """How long to wait for a frame, between attempts, and how far a gap fill may page.

    Args:
        stall_s: Reconnect when nothing (not even a heartbeat) came for this long; Mastodon
            sends a heartbeat every 15 s or so.
        backoff_s: First wait after a lost connection; doubles up to `max_backoff_s`.
        gap_pages: Pages (40 statuses each) a gap fill reads before going back to the stream.
    """

    stall_s: float = 60.0
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    gap_pages: int = 25

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> MastodonStreamOptions:
        """Read the `[sources.mastodon_stream]` table of the watch file."""
        timelines = options.get("timelines", [])
        if not isinstance(timelines, list) or not set(timelines) <= {"public", "local"}:
            raise ConfigError(
                "watch file: sources.mastodon_stream.timelines: a list of 'public' and 'local'"
            )
        return cls(**{k: options[k] for k in cls.__dataclass_fields__ if k in options})


@dataclass(frozen=True)
class Channel:
    """One streaming connection: a hashtag or a timeline of one instance, and its brands."""

    key: str
    queries: tuple[Query, ...]

    @property
    def what(self) -> str:
        return parse_query(self.key)[0]

    @property
    def instance(self) -> str:
        return parse_query(self.key)[1]

    def query_of(self, post: RawPost) -> Query | None:
        """The brand query a post belongs to: a timeline is unfiltered, so its text must match.

        A hashtag stream is filtered by the instance (the pipeline still drops excludes).
        """
        matching = (q for q in self.queries if q.matcher.matches(post.text))
        fallback = self.queries[0] if self.what.startswith("#") else None
        return next(matching, fallback)


def channels_of(queries: Sequence[Query]) -> list[Channel]:
    """Group the source's queries into connections: one per hashtag or timeline and instance."""
    grouped: dict[str, list[Query]] = {}
    for query in queries:
        grouped.setdefault(query.key, []).append(query)
    return [Channel(key, tuple(qs)) for key, qs in grouped.items()]


class _Stopped(Exception):
    """The monitor is stopping: leave the blocking read."""


class _Listener(StreamListener):
    """Mastodon.py's callbacks, handed to the channel that owns the connection."""

    def __init__(self, owner: ChannelStream):
        self.owner = owner
        self.response: Any = None

    def handle_stream(self, response: Any) -> None:
        self.response = response
        self.owner.connected()  # fills the gap while the server buffers what comes meanwhile
        super().handle_stream(response)

    def on_update(self, status: Any) -> None:
        self.owner.update(status)

    def on_status_update(self, status: Any) -> None:
        self.owner.update(status)  # an edit: stored again with its new text

    def on_delete(self, status_id: Any) -> None:
        self.owner.delete(str(status_id))

    def handle_heartbeat(self) -> None:
        self.owner.check()

    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        log.warning("mastodon stream %s: skipped an unknown event %r", self.owner.channel.key, name)


@dataclass
class ChannelStream:
    """One channel's connection loop: gap fill from the REST timeline, stream, reconnect."""

    channel: Channel
    client: Mastodon
    emit: Emit
    stop: threading.Event
    options: MastodonStreamOptions = field(default_factory=MastodonStreamOptions)
    cursor: str | None = None
    retry: Retrier = field(default_factory=lambda: Retrier(Backoff(attempts=3, cap=30.0)))
    listener: _Listener | None = None
    _failures: int = 0

    def __post_init__(self) -> None:
        self.uris = StatusUris(self.client, self.retry)
        self.collector = MastodonCollector(lambda _instance: self.client, retry=self.retry)

    def run(self) -> None:
        """Listen until `stop`; every lost connection is logged, waited out and refilled."""
        while not self.stop.is_set():
            try:
                self._listen()
                error = "the server closed the stream"
            except _Stopped:
                return
            except AttributeError:
                # What reading a response closed by `close()` raises inside http.client.
                if self.stop.is_set():
                    return
                raise
            except CONNECTION_ERRORS as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            if self.stop.is_set():
                return
            self._failures += 1
            log.warning("mastodon stream %s: %s; reconnecting", self.channel.key, error)
            self.emit(State("reconnecting", error))
            Reconnect(self.options.backoff_s, self.options.max_backoff_s).wait(
                self.stop, self._failures
            )

    def _listen(self) -> None:
        self.listener = _Listener(self)
        what, timeout = self.channel.what, self.options.stall_s
        if what.startswith("#"):
            self.client.stream_hashtag(what[1:], self.listener, timeout=timeout)
        elif what == TIMELINES[0]:
            self.client.stream_public(self.listener, timeout=timeout)
        else:
            self.client.stream_local(self.listener, timeout=timeout)

    def close(self) -> None:
        """Drop the connection (the read also notices `stop` at the next frame or heartbeat)."""
        response = self.listener.response if self.listener else None
        if response is not None:
            with contextlib.suppress(Exception):
                response.close()

    def connected(self) -> None:
        """Connected: fill the gap since the cursor from the REST timeline, then read the stream."""
        self.check()
        self.emit(State("connected"))
        if self.cursor is not None:  # a first start begins at the live edge
            self._fill_gap()
        self._failures = 0  # only now: a gap fill that keeps failing must back off too

    def _fill_gap(self) -> None:
        pages = self.collector.fetch(self.channel.key, self.cursor)
        for count, page in enumerate(pages, start=1):
            self._hand_over(page.posts, page.cursor, sent_at=None)
            if count >= self.options.gap_pages:
                log.warning(
                    "mastodon stream %s: gap longer than %d pages; the rest is not filled",
                    self.channel.key,
                    count,
                )
                return

    def update(self, status: Any) -> None:
        """A new (or edited) status over the stream."""
        self.check()
        try:
            posts = statuses_to_posts(self.channel.instance, [status], self.uris)
            status_id = str(status["id"])
            # The outer status' time: a boost of an old post is news now, not lag.
            sent_at = parse_time(str(status["created_at"])).timestamp()
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("mastodon stream %s: skipped a status: %r", self.channel.key, exc)
            return
        cursor = newest_id([status_id, *filter(None, [self.cursor])])
        self._hand_over(posts, cursor, sent_at=sent_at)

    def delete(self, status_id: str) -> None:
        """A deleted status: its `uri` is known when this stream saw it."""
        uri = self.uris.known.get(status_id)
        if uri:
            self.emit(Removed("mastodon", [uri]))

    def check(self) -> None:
        """Leave the read when the monitor stops."""
        if self.stop.is_set():
            raise _Stopped

    def _hand_over(
        self, posts: list[RawPost], cursor: str | None, *, sent_at: float | None
    ) -> None:
        by_query: dict[int, list[RawPost]] = {}
        for post in posts:
            query = self.channel.query_of(post)
            if query is not None:
                by_query.setdefault(self.channel.queries.index(query), []).append(post)
        for index, matched in by_query.items():
            query = self.channel.queries[index]
            self.emit(Received(self.channel.key, query, matched, None, sent_at))
        if cursor is not None and cursor != self.cursor:
            # After its posts, so a batch never carries the cursor without them.
            self.emit(Received(self.channel.key, self.channel.queries[0], [], cursor))
            self.cursor = cursor


@dataclass
class MastodonStream:
    """Every channel of the watch file, each in its own thread with its own client."""

    channels: list[Channel]
    client_for: Callable[[str], Mastodon]
    options: MastodonStreamOptions = field(default_factory=MastodonStreamOptions)
    source: str = SOURCE

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.channels]

    def run(self, emit: Emit, cursors: Mapping[str, str | None], stop: threading.Event) -> None:
        """Listen on every channel until `stop` is set."""
        streams = [
            ChannelStream(c, self.client_for(c.instance), emit, stop, self.options, cursors.get(c.key))
            for c in self.channels
        ]  # fmt: skip
        threads = [
            threading.Thread(target=s.run, name=f"mastodon {s.channel.key}", daemon=True)
            for s in streams
        ]
        for thread in threads:
            thread.start()
        stop.wait()
        for stream in streams:
            stream.close()
        for thread in threads:
            thread.join(timeout=2.0)
