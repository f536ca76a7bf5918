"""Jetstream frames, the reconnecting subscription and handle lookups, against local fakes."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from flarewatch.collectors.bluesky_stream import (
    MAX_TEXT,
    BrandFilter,
    HandleChanged,
    HandleResolver,
    Jetstream,
    PostCreated,
    PostDeleted,
    Skipped,
    StreamOptions,
    parse_frame,
    public_client,
    subscribe_url,
    to_raw_post,
)
from flarewatch.matching import Matcher
from tests.helpers.fake_jetstream import FakeJetstream, delete_event, now_us, post_event

T = 1_732_000_000_000_000


def test_parse_frame__create_delete_identity():
    created = parse_frame(json.dumps(post_event("did:plc:a", "3k", "Acme is down", T)))
    assert isinstance(created, PostCreated)
    assert created.uri == "at://did:plc:a/app.bsky.feed.post/3k"
    deleted = parse_frame(json.dumps(delete_event("did:plc:a", "3k", T + 1)))
    assert isinstance(deleted, PostDeleted) and deleted.time_us == T + 1
    identity = {
        "did": "did:plc:a",
        "time_us": T,
        "kind": "identity",
        "identity": {"handle": "a.bsky.social"},
    }
    assert parse_frame(json.dumps(identity)) == HandleChanged(T, "did:plc:a", "a.bsky.social")


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"{not json", "unreadable frame"),
        (b'{"time_us": 1, "kind": "commit", "did": "d", "text": "\xff\xfe"}', "unreadable frame"),
        ('{"kind": "commit"}', "unreadable frame"),
        ('{"time_us": 5, "kind": "gossip"}', "unknown event kind 'gossip'"),
        ('{"time_us": 5, "kind": "commit", "did": "d"}', "malformed commit event"),
        (
            '{"time_us": 5, "kind": "commit", "did": "d", "commit": {"collection": "app.bsky.feed.post", "operation": "create", "rkey": "k", "record": {}}}',
            "without text",
        ),
    ],
)
def test_parse_frame__bad_frames__skipped_with_reason(frame, reason):
    event = parse_frame(frame)
    assert isinstance(event, Skipped)
    assert event.reason and reason in event.reason


def test_parse_frame__oversized_text__skipped():
    event = parse_frame(json.dumps(post_event("did:plc:a", "k", "x" * (MAX_TEXT + 1), T)))
    assert isinstance(event, Skipped) and event.time_us == T and "characters" in event.reason


def test_parse_frame__other_collections_and_updates__skipped_quietly():
    like = post_event("did:plc:a", "k", "hi", T)
    like["commit"]["collection"] = "app.bsky.feed.like"
    update = post_event("did:plc:a", "k", "hi", T)
    update["commit"]["operation"] = "update"
    assert parse_frame(json.dumps(like)) == Skipped(T)
    assert parse_frame(json.dumps(update)) == Skipped(T)


def test_subscribe_url__resumes_overlap_before_cursor():
    url = subscribe_url(StreamOptions(endpoint="ws://h/subscribe", overlap_s=2.0), T)
    query = parse_qs(urlparse(url).query)
    assert query == {"wantedCollections": ["app.bsky.feed.post"], "cursor": [str(T - 2_000_000)]}
    assert "cursor" not in subscribe_url(StreamOptions(endpoint="ws://h/subscribe"), None)


def test_to_raw_post__keys_url_reply_and_brand():
    event = parse_frame(
        json.dumps(
            post_event(
                "did:plc:a", "3k", "AcmeCloud down again", T,
                reply={"parent": {"uri": "at://did:plc:b/app.bsky.feed.post/1"}},
            )
        )
    )  # fmt: skip
    brands = BrandFilter([("acme", Matcher(("acmecloud",)))])
    post = to_raw_post(event, brands.brand_of(event.record["text"]), "a.bsky.social")
    assert post.external_id == "at://did:plc:a/app.bsky.feed.post/3k"
    assert post.url == "https://bsky.app/profile/a.bsky.social/post/3k"
    assert post.reply_to == "at://did:plc:b/app.bsky.feed.post/1"
    assert (post.brand, post.language, post.author.handle) == ("acme", "en", "a.bsky.social")
    assert brands.brand_of("acme clouds") is None


async def _collect(js: Jetstream, cursor, stop: asyncio.Event, want: int, on_event=None):
    got = []
    async for event in js.events(cursor, stop):
        got.append(event)
        if on_event:
            on_event(len(got))
        if len(got) >= want:
            stop.set()
    return got


@pytest.fixture
def fake():
    server = FakeJetstream()
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_jetstream__disconnect__reconnects_and_resumes_from_cursor(fake):
    start = now_us()
    for k in range(3):
        fake.publish(post_event("did:plc:a", f"k{k}", f"post {k}", start + k))
    statuses = []
    options = StreamOptions(endpoint=fake.url, overlap_s=0.0, backoff_s=0.05)
    js = Jetstream(options, on_status=lambda state, error: statuses.append(state))
    seen = []

    def publish_rest():
        for k in range(3, 6):
            fake.publish(post_event("did:plc:a", f"k{k}", f"post {k}", start + k))

    async def main():
        stop = asyncio.Event()
        async for event in js.events(lambda: seen[-1] + 1 if seen else start, stop):
            seen.append(event.time_us)
            if len(seen) == 3:
                fake.disconnect()
                threading.Timer(0.3, publish_rest).start()
            if len(seen) >= 6:
                stop.set()

    asyncio.run(asyncio.wait_for(main(), 20))
    assert statuses[:3] == ["connected", "reconnecting", "connected"]
    assert f"cursor={start}" in fake.connections[0]
    assert f"cursor={start + 3}" in fake.connections[1]
    assert seen == [start + k for k in range(6)]


@pytest.mark.slow
def test_jetstream__stalled_server__triggers_reconnect(fake):
    fake.stall(1.5)
    statuses = []
    options = StreamOptions(endpoint=fake.url, stall_s=0.5, backoff_s=0.05)
    js = Jetstream(options, on_status=lambda state, error: statuses.append((state, error)))
    fake.publish(post_event("did:plc:a", "k", "after the stall", now_us()))
    got = asyncio.run(asyncio.wait_for(_collect(js, lambda: 0, asyncio.Event(), 1), 20))
    assert isinstance(got[0], PostCreated)
    assert ("reconnecting", "TimeoutError: no frame for 0 s") in statuses or any(
        s == "reconnecting" and "no frame" in (e or "") for s, e in statuses
    )


class _Profiles(BaseHTTPRequestHandler):
    calls: ClassVar[list[list[str]]] = []

    def do_GET(self):
        actors = parse_qs(urlparse(self.path).query).get("actors", [])
        type(self).calls.append(actors)
        known = [a for a in actors if not a.endswith("gone")]
        body = json.dumps(
            {"profiles": [{"did": a, "handle": a.split(":")[-1] + ".bsky.social"} for a in known]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_handle_resolver__batches_of_25_and_cache():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Profiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Profiles.calls = []
    try:
        resolver = HandleResolver(public_client(f"http://127.0.0.1:{server.server_port}/xrpc"))
        dids = [f"did:plc:u{k}" for k in range(30)] + ["did:plc:gone"]
        handles = resolver.resolve(dids)
        assert handles["did:plc:u7"] == "u7.bsky.social" and handles["did:plc:gone"] is None
        assert [len(c) for c in _Profiles.calls] == [25, 6]
        resolver.learn("did:plc:u1", "new.example")
        assert resolver.resolve(["did:plc:u1", "did:plc:gone"]) == {
            "did:plc:u1": "new.example",
            "did:plc:gone": None,
        }
        assert len(_Profiles.calls) == 2
    finally:
        server.shutdown()


def test_handle_resolver__lookup_fails__handles_unknown_then_retried_after_pause():
    now = [0.0]
    resolver = HandleResolver(
        public_client("http://127.0.0.1:9/xrpc"), retry_after_s=60, clock=lambda: now[0]
    )
    assert resolver.resolve(["did:plc:a"]) == {"did:plc:a": None}
    assert "did:plc:a" not in resolver.cache
    assert resolver._paused_until == 60
    now[0] = 61.0
    resolver.resolve(["did:plc:a"])
    assert resolver._paused_until == 121  # tried again after the pause, failed again
