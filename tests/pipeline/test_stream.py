"""The stream ingest against a local fake Jetstream: exactly-once storage, resume, deletes."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import select

from flarewatch.collectors.bluesky_stream import BrandFilter, Jetstream, StreamOptions
from flarewatch.matching import Matcher
from flarewatch.pipeline.stream import CURSOR_KEY, SOURCE, StreamIngest
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.schema import Post
from tests.helpers.fake_jetstream import FakeJetstream, delete_event, now_us, post_event

pytestmark = pytest.mark.slow
BRANDS = BrandFilter([("acme", Matcher(("acme",), exclude=("acme pie",)))])


@pytest.fixture
def fake():
    server = FakeJetstream()
    server.start()
    yield server
    server.stop()


def _ingest(engine, fake, **kwargs) -> StreamIngest:
    options = StreamOptions(endpoint=fake.url, overlap_s=1.0, backoff_s=0.05, stall_s=5)
    return StreamIngest(
        engine, Jetstream(options), BRANDS, flush_seconds=0.2, flush_posts=50, **kwargs
    )


def _run_until(ingest: StreamIngest, done, timeout: float = 20.0):
    """Run the ingest in a thread's event loop until `done()` holds, then stop it cleanly."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=lambda: loop.run_until_complete(ingest.run(stop)))
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not done() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
    assert not thread.is_alive()
    assert done(), "the ingest did not get there in time"


def _stored(engine) -> dict[str, tuple[str, bool]]:
    with session_scope(engine) as session:
        rows = session.execute(select(Post.external_id, Post.text, Post.removed)).all()
    return {r.external_id: (r.text, r.removed) for r in rows}


def _publish(fake, start: int, count: int, *, every: int = 10) -> list[str]:
    """`count` events from `start` µs on; every `every`th mentions acme. Returns their rkeys."""
    brand = []
    for k in range(count):
        text = f"acme is down {k}" if k % every == 0 else f"lunch {k}"
        fake.publish(post_event(f"did:plc:u{k % 7}", f"r{start + k}", text, start + k))
        if k % every == 0:
            brand.append(f"r{start + k}")
    return brand


def _cursor(engine) -> int | None:
    with session_scope(engine) as session:
        saved = queries.get_cursor(session, SOURCE, CURSOR_KEY)
    return int(saved) if saved else None


def test_stream_ingest__disconnects__every_brand_post_stored_once(engine, fake):
    start = now_us()
    with session_scope(engine) as session:
        queries.set_cursor(session, SOURCE, CURSOR_KEY, str(start))
    wanted = _publish(fake, start, 200)
    ingest = _ingest(engine, fake)
    disconnected = []

    def done():
        stored = _stored(engine)
        # Drop each connection only once the client is back on a new one.
        reconnected = len(fake.connections) == len(disconnected) + 1
        if len(stored) >= 5 and len(disconnected) < 2 and reconnected:
            disconnected.append(1)
            fake.disconnect()
            wanted.extend(_publish(fake, start + 1000 * len(disconnected), 100))
        return len(disconnected) == 2 and len(stored) >= len(wanted)

    _run_until(ingest, done)
    stored = _stored(engine)
    assert sorted(k.rsplit("/", 1)[-1] for k in stored) == sorted(wanted)
    assert all(text.startswith("acme is down") for text, _ in stored.values())
    assert len(fake.connections) >= 3
    assert ingest.stats.inserted == len(wanted)  # never a second insert of the same post
    assert _cursor(engine) >= start + 2099


def test_stream_ingest__restart__resumes_from_saved_cursor_minus_overlap(engine, fake):
    start = now_us()
    with session_scope(engine) as session:
        queries.set_cursor(session, SOURCE, CURSOR_KEY, str(start))
    first = _publish(fake, start, 50)
    _run_until(_ingest(engine, fake), lambda: len(_stored(engine)) == len(first))
    saved = _cursor(engine)
    assert saved == start + 49
    later = _publish(fake, start + 5_000_000, 50)  # published while the monitor was down
    _run_until(_ingest(engine, fake), lambda: len(_stored(engine)) == len(first) + len(later))
    assert f"cursor={saved - 1_000_000}" in fake.connections[-1]
    with session_scope(engine) as session:
        health = {h["source"]: h for h in queries.source_health(session)}[SOURCE]
    assert health["stream_state"] == "stopped"
    assert health["posts_collected"] == len(first) + len(later)


def test_stream_ingest__delete__marks_stored_post_removed(engine, fake):
    start = now_us()
    with session_scope(engine) as session:
        queries.set_cursor(session, SOURCE, CURSOR_KEY, str(start))
    fake.publish(post_event("did:plc:a", "keep", "acme outage", start))
    fake.publish(post_event("did:plc:a", "gone", "acme outage, deleting this", start + 1))
    ingest = _ingest(engine, fake)
    deleted = []

    def done():
        if len(_stored(engine)) == 2 and not deleted:
            deleted.append(1)
            fake.publish(delete_event("did:plc:a", "gone", start + 2))
        return bool(deleted) and ingest.stats.deleted == 1

    _run_until(ingest, done)
    stored = _stored(engine)
    assert stored["at://did:plc:a/app.bsky.feed.post/gone"] == ("", True)
    assert stored["at://did:plc:a/app.bsky.feed.post/keep"] == ("acme outage", False)


def test_stream_ingest__bad_frames_and_excludes__skipped_stream_goes_on(engine, fake):
    start = now_us()
    with session_scope(engine) as session:
        queries.set_cursor(session, SOURCE, CURSOR_KEY, str(start))
    fake.publish(b"\xff\xfe not utf-8", start)
    fake.publish("{broken json", start + 1)
    fake.publish(f'{{"time_us": {start + 2}, "kind": "gossip"}}', start + 2)
    fake.publish(post_event("did:plc:a", "big", "acme " + "x" * 20_000, start + 3))
    fake.publish(post_event("did:plc:a", "pie", "I baked acme pie", start + 4))
    fake.publish(post_event("did:plc:a", "ok", "acme is down", start + 5))
    ingest = _ingest(engine, fake)
    _run_until(ingest, lambda: _cursor(engine) == start + 5)
    assert list(_stored(engine)) == ["at://did:plc:a/app.bsky.feed.post/ok"]
    assert ingest.stats.events >= 6
