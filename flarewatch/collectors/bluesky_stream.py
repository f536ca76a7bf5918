"""Listen to Bluesky's Jetstream firehose: parse frames, match brands, resolve handles, reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import websockets
from atproto import Client
from atproto_client import exceptions as atx

from flarewatch.collectors.bluesky import POST_URL
from flarewatch.domain import MAX_LENGTHS, RawAuthor, RawPost, parse_time
from flarewatch.matching import Matcher

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "wss://jetstream2.us-east.bsky.network/subscribe"
PUBLIC_APPVIEW = "https://public.api.bsky.app/xrpc"
COLLECTION = "app.bsky.feed.post"
# Bluesky caps a post at 300 graphemes (3,000 bytes of UTF-8); far longer text is not a real post.
MAX_TEXT = 10_000
MAX_FRAME_BYTES = 1 << 20
PROFILES_PER_CALL = 25  # app.bsky.actor.getProfiles takes at most 25 actors


@dataclass(frozen=True)
class StreamOptions:
    """How to reach Jetstream and when to give up on a connection.

    Args:
        endpoint: The `subscribe` URL of a Jetstream instance (several public ones exist).
        overlap_s: How far before the saved cursor a reconnect resumes, so nothing falls between.
        stall_s: Reconnect when no frame arrived for this long (Jetstream is never quiet).
        backoff_s: First wait after a failed connection; doubles up to `max_backoff_s`.
        zstd_dictionary: Path of Jetstream's zstd dictionary; when set, ask for compressed frames.
    """

    endpoint: str = DEFAULT_ENDPOINT
    overlap_s: float = 3.0
    stall_s: float = 30.0
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    zstd_dictionary: str | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> StreamOptions:
        """Read the `[sources.bluesky_stream]` table of the watch file."""
        known = {k: options[k] for k in cls.__dataclass_fields__ if k in options}
        return cls(**known)


@dataclass(frozen=True)
class PostCreated:
    """A new post: its author's DID, record key and record."""

    time_us: int
    did: str
    rkey: str
    record: Mapping[str, Any]

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{COLLECTION}/{self.rkey}"


@dataclass(frozen=True)
class PostDeleted:
    """An author deleted a post."""

    time_us: int
    did: str
    rkey: str

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{COLLECTION}/{self.rkey}"


@dataclass(frozen=True)
class HandleChanged:
    """An identity event: the DID's current handle."""

    time_us: int
    did: str
    handle: str


@dataclass(frozen=True)
class Skipped:
    """A frame that carries nothing to store (other collections, updates) or could not be read."""

    time_us: int | None
    reason: str | None = None  # set when the frame was bad (logged); None when merely irrelevant


StreamEvent = PostCreated | PostDeleted | HandleChanged | Skipped


def _decode(frame: str | bytes, decompress: Callable[[bytes], bytes] | None) -> Any:
    if isinstance(frame, bytes):
        frame = (decompress(frame) if decompress else frame).decode("utf-8")
    return json.loads(frame)


def _commit(data: Mapping[str, Any], time_us: int) -> StreamEvent:
    did, commit = data["did"], data["commit"]
    if commit.get("collection") != COLLECTION:
        return Skipped(time_us)
    operation, rkey = commit.get("operation"), str(commit["rkey"])
    if operation == "delete":
        return PostDeleted(time_us, did, rkey)
    if operation != "create":
        return Skipped(time_us)
    record = commit["record"]
    text = record.get("text")
    if not isinstance(text, str):
        return Skipped(time_us, "post record without text")
    if len(text) > MAX_TEXT:
        return Skipped(time_us, f"text of {len(text)} characters (at most {MAX_TEXT})")
    if len(f"at://{did}/{COLLECTION}/{rkey}") > MAX_LENGTHS["external_id"]:
        return Skipped(time_us, "post uri too long")
    return PostCreated(time_us, did, rkey, record)


def parse_frame(
    frame: str | bytes, decompress: Callable[[bytes], bytes] | None = None
) -> StreamEvent:
    """Read one Jetstream frame; anything malformed becomes a Skipped with the reason."""
    try:
        data = _decode(frame, decompress)
        time_us = int(data["time_us"])
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        return Skipped(None, f"unreadable frame ({type(exc).__name__})")
    try:
        kind = data.get("kind")
        if kind == "commit":
            return _commit(data, time_us)
        if kind == "identity" and data["identity"].get("handle"):
            return HandleChanged(time_us, data["did"], data["identity"]["handle"])
        if kind in ("identity", "account"):
            return Skipped(time_us)
        return Skipped(time_us, f"unknown event kind {kind!r}")
    except (KeyError, TypeError, AttributeError) as exc:
        return Skipped(time_us, f"malformed {data.get('kind')} event ({exc!r})")


@dataclass
class BrandFilter:
    """The one brand matcher, applied to stream text on our side (the firehose is unfiltered)."""

    brands: Sequence[tuple[str, Matcher]]

    def brand_of(self, text: str) -> str | None:
        """The first brand whose matcher accepts `text`."""
        return next((name for name, matcher in self.brands if matcher.matches(text)), None)


def to_raw_post(event: PostCreated, brand: str, handle: str | None) -> RawPost:
    """Normalise a created post; `created_at` is the record's own time, else the event's."""
    record = event.record
    try:
        created = parse_time(record["createdAt"])
    except (KeyError, ValueError):
        created = datetime.fromtimestamp(event.time_us / 1e6, UTC)
    langs = record.get("langs") or [None]
    parent = (record.get("reply") or {}).get("parent", {}).get("uri")
    language = langs[0] if isinstance(langs[0], str) and len(langs[0]) <= 16 else None
    return RawPost(
        platform="bluesky",
        external_id=event.uri,
        text=record["text"],
        created_at=created,
        author=RawAuthor("bluesky", event.did, handle=handle),
        brand=brand,
        url=POST_URL.format(handle=handle or event.did, rkey=event.rkey),
        language=language,
        reply_to=parent if isinstance(parent, str) and len(parent) <= 128 else None,
        raw={"jetstream_time_us": event.time_us, "record": dict(record)},
    )


@dataclass
class HandleResolver:
    """DID to handle through `app.bsky.actor.getProfiles`, in batches, with a cache.

    A failed lookup leaves the handle unknown (the post is stored under its DID) and is retried
    with the next batch; a DID the AppView does not know is remembered as unknown.
    """

    client: Client
    cache: dict[str, str | None] = field(default_factory=dict)
    max_cache: int = 100_000
    # After a failed lookup, posts go out under their DIDs for this long: a down AppView must
    # not cost every batch a timeout.
    retry_after_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _paused_until: float = 0.0

    def learn(self, did: str, handle: str) -> None:
        """Take a handle from an identity event."""
        self.cache[did] = handle

    def resolve(self, dids: Iterable[str]) -> dict[str, str | None]:
        """Handles of `dids` (None where unknown)."""
        missing = sorted({d for d in dids if d not in self.cache})
        for start in range(0, len(missing), PROFILES_PER_CALL):
            if self.clock() < self._paused_until:
                break
            self._fetch(missing[start : start + PROFILES_PER_CALL])
        if len(self.cache) > self.max_cache:
            self.cache.clear()
        return {d: self.cache.get(d) for d in dids}

    def _fetch(self, chunk: list[str]) -> None:
        try:
            response = self.client.app.bsky.actor.get_profiles(params={"actors": chunk})
        except (atx.AtProtocolError, ValueError) as exc:
            log.warning(
                "bluesky stream: handle lookup failed (%s); storing DIDs for %.0f s",
                type(exc).__name__,
                self.retry_after_s,
            )
            self._paused_until = self.clock() + self.retry_after_s
            return
        for profile in response.profiles:
            self.cache[profile.did] = profile.handle
        for did in chunk:
            self.cache.setdefault(did, None)


def public_client(base_url: str = PUBLIC_APPVIEW) -> Client:
    """An unauthenticated client of the public AppView (getProfiles needs no login)."""
    return Client(base_url=base_url)


def subscribe_url(options: StreamOptions, cursor: int | None) -> str:
    """The subscribe URL for posts, resuming `overlap_s` before `cursor` when there is one."""
    params: list[tuple[str, str]] = [("wantedCollections", COLLECTION)]
    if cursor is not None:
        params.append(("cursor", str(max(0, cursor - int(options.overlap_s * 1e6)))))
    if options.zstd_dictionary:
        params.append(("compress", "true"))
    return f"{options.endpoint}?{urlencode(params)}"


def _decompressor(path: str | None) -> Callable[[bytes], bytes] | None:
    if not path:
        return None
    import zstandard

    with open(path, "rb") as handle:
        dictionary = zstandard.ZstdCompressionDict(handle.read())
    reader = zstandard.ZstdDecompressor(dict_data=dictionary)
    return lambda data: reader.decompress(data, max_output_size=MAX_FRAME_BYTES)


StatusCallback = Callable[[str, str | None], None]


async def _close_on(stop: asyncio.Event, socket: Any) -> None:
    await stop.wait()
    await socket.close()


@dataclass
class Jetstream:
    """A Jetstream subscription that reconnects with backoff and resumes from a cursor."""

    options: StreamOptions = field(default_factory=StreamOptions)
    on_status: StatusCallback = lambda state, error: None

    async def events(
        self, cursor: Callable[[], int | None], stop: asyncio.Event
    ) -> AsyncIterator[StreamEvent]:
        """Yield events until `stop` is set; each (re)connection asks `cursor()` where to start."""
        decompress = _decompressor(self.options.zstd_dictionary)
        failures = 0
        while not stop.is_set():
            url = subscribe_url(self.options, cursor())
            try:
                async with websockets.connect(
                    url, max_size=MAX_FRAME_BYTES, open_timeout=self.options.stall_s
                ) as socket:
                    self.on_status("connected", None)
                    failures = 0
                    closer = asyncio.create_task(_close_on(stop, socket))
                    try:
                        async for event in self._frames(socket, stop, decompress):
                            yield event
                    finally:
                        closer.cancel()
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                if stop.is_set():
                    return
                failures += 1
                error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("bluesky stream: connection lost (%s); reconnecting", error)
                self.on_status("reconnecting", error)
                await self._wait(stop, failures)

    async def _frames(
        self, socket: Any, stop: asyncio.Event, decompress: Callable[[bytes], bytes] | None
    ) -> AsyncIterator[StreamEvent]:
        while not stop.is_set():
            try:
                # Bytes, not str: invalid UTF-8 must cost one frame, not the connection.
                frame = await asyncio.wait_for(
                    socket.recv(decode=False), timeout=self.options.stall_s
                )
            except TimeoutError:
                raise TimeoutError(f"no frame for {self.options.stall_s:.0f} s") from None
            event = parse_frame(frame, decompress)
            if isinstance(event, Skipped) and event.reason:
                log.warning("bluesky stream: skipped a frame: %s", event.reason)
            yield event

    async def _wait(self, stop: asyncio.Event, failures: int) -> None:
        delay = min(self.options.max_backoff_s, self.options.backoff_s * 2 ** (failures - 1))
        delay *= random.uniform(0.5, 1.0)  # jitter: many monitors must not reconnect in step
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
