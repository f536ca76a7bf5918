"""Listen to X's filtered stream through tweepy: rules from the brand terms, backfill, fallback."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import tweepy

from flarewatch.collectors.backoff import Backoff, Retrier, SourceError
from flarewatch.collectors.cursor import Resume, newest_id
from flarewatch.collectors.live import Emit, Received, Reconnect, State
from flarewatch.collectors.twitter import (
    EXPANSIONS,
    TWEET_FIELDS,
    USER_FIELDS,
    XCollector,
    tweet_to_post,
)
from flarewatch.collectors.watch import Brand, Query, x_parts, x_suffix
from flarewatch.config import ConfigError

log = logging.getLogger(__name__)

SOURCE = "x_stream"
TAG_PREFIX = "flarewatch:"
# Statuses X answers a stream connection (or its rules) with when the app may not stream.
REFUSED = {
    401: "the bearer token was rejected",
    403: "the access level does not include the filtered stream",
    429: "too many connections or attempts (another process may hold the stream)",
}


@dataclass(frozen=True)
class XStreamOptions:
    """Rule limits of the access level, reconnect backoff and the polling fallback.

    Args:
        rule_length: Longest rule the access level takes (512 characters on the smaller
            levels, 1,024 on Pro, 2,048 on Enterprise).
        max_rules: Rules the access level allows on the app's stream (all consumers together).
        poll_interval: Seconds between recent searches while the stream is refused.
        max_pages: Search pages per query in a backfill or a fallback poll.
        stall_s: Reconnect when no line came for this long (X sends a keep-alive every 20 s).
    """

    rule_length: int = 512
    max_rules: int = 25
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    poll_interval: float = 900.0
    max_pages: int = 5
    stall_s: float = 21.0

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], interval: float, max_pages: int
    ) -> XStreamOptions:
        """Read `[sources.x_stream]`; its `interval` and `max_pages` govern the fallback polls."""
        known = {k: options[k] for k in cls.__dataclass_fields__ if k in options}
        return cls(**{"poll_interval": interval, "max_pages": max_pages, **known})


def tag_of(query: Query) -> str:
    """The rule tag of a query: stable across restarts, so unchanged rules are kept."""
    return TAG_PREFIX + hashlib.sha1(query.key.encode()).hexdigest()[:12]


def pack_rules(brand: Brand, options: Mapping[str, Any], max_length: int) -> list[str]:
    """The brand's terms OR-ed into as few rules as fit `max_length`, each with the suffix."""
    suffix = x_suffix(brand, options)
    room = max_length - len(suffix) - len("() ")
    rules: list[list[str]] = []
    for part in x_parts(brand):
        if len(part) > room:
            raise ConfigError(
                f"x_stream: the term {part!r} of {brand.name!r} does not fit a rule of "
                f"{max_length} characters"
            )
        if rules and len(" OR ".join([*rules[-1], part])) <= room:
            rules[-1].append(part)
        else:
            rules.append([part])
    return [f"({' OR '.join(group)}) {suffix}".strip() for group in rules]


def stream_rules(
    brands: Sequence[Brand], queries: Sequence[Query], options: Mapping[str, Any], max_length: int
) -> dict[str, tuple[Query, list[str]]]:
    """Tag -> (query, rule values): the brand's terms split to fit, our own account as is."""
    by_name = {b.name: b for b in brands}
    rules = {}
    for query in queries:
        own = query.key.startswith("from:")
        values = [query.key] if own else pack_rules(by_name[query.brand], options, max_length)
        rules[tag_of(query)] = (query, values)
    return rules


def sync_rules(
    client: tweepy.StreamingClient, wanted: Mapping[str, tuple[Query, list[str]]], max_rules: int
) -> None:
    """Make the app's rules ours: drop our stale ones, add the missing; others' are left alone."""
    existing = client.get_rules().data or []
    ours = [r for r in existing if (r.tag or "").startswith(TAG_PREFIX)]
    want = {(v, tag) for tag, (_, values) in wanted.items() for v in values}
    stale = [r.id for r in ours if (r.value, r.tag) not in want]
    missing = sorted(want - {(r.value, r.tag) for r in ours})
    total = len(existing) - len(stale) + len(missing)
    if total > max_rules:
        raise ConfigError(
            f"x_stream: {total} rules needed, the access level allows {max_rules} "
            "(raise max_rules or shorten the terms)"
        )
    if stale:
        client.delete_rules(stale)
    if missing:
        added = client.add_rules([tweepy.StreamRule(value, tag) for value, tag in missing])
        if added.errors:
            detail = "; ".join(str(e.get("title") or e) for e in added.errors)
            raise ConfigError(f"x_stream: X rejected a rule: {detail}")


def advance(cursor: str | None, tweet_id: str) -> str:
    """The cursor after storing `tweet_id`: the floor rises unless a backfill sweep is half done."""
    state = Resume.decode(cursor)
    if state.top or state.page:
        return state.encode()  # the sweep raises the floor when it reaches the bottom
    return Resume(floor=newest_id([tweet_id, *filter(None, [state.floor])])).encode()


class _Connection(tweepy.StreamingClient):
    """tweepy's filtered stream; each connection ends in our loop, which backfills and retries."""

    def __init__(self, bearer_token: str, owner: XStream):
        super().__init__(bearer_token, wait_on_rate_limit=False, max_retries=0)
        self.owner = owner
        self.ended: str | None = None
        self.refused: int | None = None

    def _connect(self, method: str, endpoint: str, **kwargs: Any) -> None:
        # tweepy's read timeout is what notices a stalled stream; `filter` offers no way to set it.
        super()._connect(method, endpoint, timeout=self.owner.options.stall_s, **kwargs)

    def on_connect(self) -> None:
        if self.owner.stop.is_set():
            self.disconnect()
            return
        self.owner.connected()

    def on_data(self, raw_data: Any) -> None:
        self.owner.frame(raw_data)
        if self.owner.stop.is_set():
            self.disconnect()

    def on_keep_alive(self) -> None:
        if self.owner.stop.is_set():
            self.disconnect()

    def on_request_error(self, status_code: int) -> None:
        self.ended = f"HTTP {status_code}"
        self.refused = status_code if status_code in REFUSED else None
        self.disconnect()

    def on_connection_error(self) -> None:
        self.ended = f"connection error or nothing for {self.owner.options.stall_s:.0f} s"
        self.disconnect()

    def on_closed(self, response: Any) -> None:
        self.ended = "X closed the stream"
        self.disconnect()

    def on_exception(self, exception: Exception) -> None:
        self.ended = f"{type(exception).__name__}: {exception}"[:300]


@dataclass
class XStream:
    """The filtered stream of the watch file's X queries, with recent search behind it."""

    bearer_token: str
    search: XCollector
    rules: Mapping[str, tuple[Query, list[str]]]
    options: XStreamOptions = field(default_factory=XStreamOptions)
    source: str = SOURCE
    stop: threading.Event = field(default_factory=threading.Event)
    _emit: Emit = lambda event: None
    _cursors: dict[str, str | None] = field(default_factory=dict)
    _failures: int = 0

    def __post_init__(self) -> None:
        self.connection = _Connection(self.bearer_token, self)

    @property
    def keys(self) -> list[str]:
        return [query.key for query, _ in self.rules.values()]

    def run(self, emit: Emit, cursors: Mapping[str, str | None], stop: threading.Event) -> None:
        """Stream until `stop`; when X refuses the stream, poll recent search instead."""
        self._emit, self._cursors, self.stop = emit, dict(cursors), stop
        connection = self.connection
        try:
            sync_rules(connection, self.rules, self.options.max_rules)
        except tweepy.HTTPException as exc:
            return self._poll("the stream's rules were refused", exc.response.status_code)
        while not stop.is_set():
            connection.ended = connection.refused = None
            connection.filter(
                expansions=EXPANSIONS, tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS
            )
            if stop.is_set():
                return
            if connection.refused:
                return self._poll("the stream was refused", connection.refused)
            self._failures += 1
            error = connection.ended or "the stream ended"
            log.warning("x stream: %s; reconnecting", error)
            emit(State("reconnecting", error))
            Reconnect(self.options.backoff_s, self.options.max_backoff_s).wait(stop, self._failures)

    def connected(self) -> None:
        """Connected: fetch what was posted while we were away, then read the stream."""
        self._emit(State("connected"))
        self._backfill(cold=False)
        self._failures = 0  # only now: a backfill that keeps failing must back off too

    def frame(self, raw: bytes | str) -> None:
        """One line of the stream: a post with its includes and matching rules, or errors."""
        try:
            payload = json.loads(raw)
            tweet, includes = payload.get("data"), payload.get("includes") or {}
            if tweet is None:
                log.warning("x stream: message without a post: %s", str(payload)[:300])
                return
            users = {str(u["id"]): u for u in includes.get("users", [])}
            tweets = {str(t["id"]): t for t in includes.get("tweets", [])}
            post = tweet_to_post(tweet, users, tweets)
            tags = [str(r.get("tag")) for r in payload.get("matching_rules") or []]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("x stream: skipped a malformed message (%s)", type(exc).__name__)
            return
        query = next((self.rules[t][0] for t in tags if t in self.rules), None)
        if query is None:
            return  # another consumer's rule on the same app
        cursor = advance(self._cursors.get(query.key), post.external_id)
        self._cursors[query.key] = cursor
        self._emit(Received(query.key, query, [post], cursor, post.created_at.timestamp()))

    def _backfill(self, *, cold: bool) -> None:
        """Recent search since each query's cursor (`cold`: also where there is none yet)."""
        for query, _ in self.rules.values():
            since = self._cursors.get(query.key)
            if since is None and not cold:
                continue  # a first start begins at the live edge
            for count, page in enumerate(self.search.fetch(query.key, since), start=1):
                self._cursors[query.key] = page.cursor
                self._emit(Received(query.key, query, page.posts, page.cursor))
                if count >= self.options.max_pages or self.stop.is_set():
                    break  # the saved cursor resumes the sweep next time

    def _poll(self, what: str, status: int) -> None:
        why = REFUSED.get(status, "see the X developer console")
        message = (
            f"x stream: {what} (HTTP {status}: {why}); "
            f"polling recent search every {self.options.poll_interval:.0f} s instead"
        )
        log.warning("%s", message)
        self._emit(State("polling", message))
        while not self.stop.is_set():
            try:
                self._backfill(cold=True)
            except SourceError as exc:
                self._emit(State("polling", f"x: {type(exc).__name__}: {exc}"[:300]))
            self.stop.wait(self.options.poll_interval)


def search_retrier() -> Retrier:
    """Backfills retry a little, then give the stream back its turn."""
    return Retrier(Backoff(attempts=3, cap=30.0))
