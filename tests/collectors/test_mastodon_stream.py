"""Mastodon streaming against a local fake instance: live posts, deletes, gap fills, bad frames."""

from __future__ import annotations

import logging

import pytest

from flarewatch.collectors.mastodon import make_client
from flarewatch.collectors.mastodon_stream import (
    SOURCE,
    MastodonStream,
    MastodonStreamOptions,
    channels_of,
)
from flarewatch.collectors.watch import parse_watch
from flarewatch.config import ConfigError
from flarewatch.pipeline.live import LiveIngest
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.helpers.fake_mastodon import FIRST_ID, FakeMastodon, status
from tests.helpers.live_runner import listening, stored, wait_for

pytestmark = pytest.mark.slow
FAST = MastodonStreamOptions(stall_s=5.0, backoff_s=0.05, max_backoff_s=0.2)


@pytest.fixture
def fake():
    server = FakeMastodon()
    server.route_tag("acme")
    server.start()
    yield server
    server.stop()


def _watch(fake, timelines=()):
    return parse_watch(
        {
            "brands": [
                {"name": "acme", "terms": ["acme"], "hashtags": ["acme"], "exclude": ["acme pie"]}
            ],
            "sources": {"mastodon_stream": {"instances": [fake.url], "timelines": list(timelines)}},
        }
    )


def _ingest(engine, fake, timelines=()) -> LiveIngest:
    channels = channels_of(_watch(fake, timelines).queries(SOURCE))
    stream = MastodonStream(channels, lambda instance: make_client(instance, token="t"), FAST)
    return LiveIngest(engine, stream, flush_seconds=0.1)


def _uri(n: int) -> str:
    return f"https://social.example/users/ann/statuses/{FIRST_ID + n}"


def _cursor(engine, fake) -> str | None:
    with session_scope(engine) as session:
        return queries.get_cursor(session, SOURCE, f"#acme@{fake.url}")


def test_mastodon_stream__live_update_and_delete__stored_then_removed(engine, fake):
    ingest = _ingest(engine, fake)
    with listening(ingest):
        assert wait_for(lambda: fake.open_streams() == 1)
        fake.publish(status(1, "acme is down again", tags=("acme",)))
        fake.publish(status(3, "acme outage, deleting this", tags=("acme",)))
        assert wait_for(lambda: len(stored(engine)) == 2)
        fake.delete(str(FIRST_ID + 3))
        fake.delete(str(FIRST_ID + 999))  # a status this stream never saw: ignored
        assert wait_for(lambda: ingest.stats.deleted == 1)
    posts = stored(engine)
    assert posts[_uri(1)] == ("acme is down again #acme", False, "acme")
    assert posts[_uri(3)] == ("", True, "acme")
    assert _cursor(engine, fake) == str(FIRST_ID + 3)
    with session_scope(engine) as session:
        health = {h["source"]: h for h in queries.source_health(session)}[SOURCE]
    assert health["stream_state"] == "stopped"
    assert health["posts_collected"] == 2


def test_mastodon_stream__disconnect__gap_filled_from_timeline_with_min_id(engine, fake):
    ingest = _ingest(engine, fake)
    with listening(ingest):
        assert wait_for(lambda: fake.open_streams() == 1)
        fake.publish(status(1, "acme down", tags=("acme",)))
        assert wait_for(lambda: len(stored(engine)) == 1)
        fake.refuse_streams = True
        fake.disconnect()
        for n in range(2, 50):  # more than one page of 40 while the stream is down
            fake.publish(status(n, f"acme still down {n}", tags=("acme",)), live=False)
        assert wait_for(lambda: ingest.stats.state == "reconnecting")
        fake.refuse_streams = False
        assert wait_for(lambda: len(stored(engine)) == 49)
        assert wait_for(lambda: fake.open_streams() == 1)
        fake.publish(status(50, "acme back", tags=("acme",)))
        assert wait_for(lambda: len(stored(engine)) == 50)
    assert set(stored(engine)) == {_uri(n) for n in range(1, 51)}
    assert ingest.stats.inserted == 50  # the gap fill and the stream overlap, stored once
    fills = [r for r in fake.requests if "/timelines/tag/acme" in r]
    assert f"min_id={FIRST_ID + 1}" in fills[0]
    assert _cursor(engine, fake) == str(FIRST_ID + 50)


def test_mastodon_stream__restart__resumes_from_saved_cursor(engine, fake):
    with listening(_ingest(engine, fake)):
        assert wait_for(lambda: fake.open_streams() == 1)
        fake.publish(status(1, "acme down", tags=("acme",)))
        assert wait_for(lambda: _cursor(engine, fake) == str(FIRST_ID + 1))
    for n in range(2, 6):  # published while the monitor was stopped
        fake.publish(status(n, f"acme down {n}", tags=("acme",)), live=False)
    with listening(_ingest(engine, fake)):
        assert wait_for(lambda: len(stored(engine)) == 5)
    assert f"GET /api/v1/timelines/tag/acme?min_id={FIRST_ID + 1}&limit=40" in fake.requests
    assert _cursor(engine, fake) == str(FIRST_ID + 5)


def test_mastodon_stream__malformed_frame__logged_reconnected_nothing_lost(engine, fake, caplog):
    caplog.set_level(logging.WARNING)
    ingest = _ingest(engine, fake)
    with listening(ingest):
        assert wait_for(lambda: fake.open_streams() == 1)
        fake.publish(status(1, "acme down", tags=("acme",)))
        assert wait_for(lambda: len(stored(engine)) == 1)
        fake.broadcast(b"event: update\ndata: {not json\n\n")
        fake.publish(status(2, "acme still down", tags=("acme",)))  # lost with the connection...
        assert wait_for(lambda: len(stored(engine)) == 2)  # ...and filled in after it
        fake.broadcast(b"event: gossip\ndata: {}\n\n")  # an unknown event: skipped
        fake.publish(status(3, "acme again", tags=("acme",)))
        assert wait_for(lambda: len(stored(engine)) == 3)
    assert ingest.stats.inserted == 3
    assert "MastodonMalformedEventError" in caplog.text
    assert "unknown event 'gossip'" in caplog.text


def test_mastodon_stream__public_timeline__only_brand_mentions_kept(engine, fake):
    ingest = _ingest(engine, fake, timelines=("public",))
    with listening(ingest):
        assert wait_for(lambda: fake.open_streams() == 2)  # the hashtag and the timeline
        fake.publish(status(1, "lunch was good"))
        fake.publish(status(2, "is ACME down for anyone?"))
        fake.publish(status(3, "I baked acme pie"))  # only an exclude: dropped
        fake.publish(status(4, "acme down", tags=("acme",)))  # on both streams: stored once
        assert wait_for(lambda: len(stored(engine)) == 2)
    assert set(stored(engine)) == {_uri(2), _uri(4)}


def test_mastodon_stream__stalled_server__reconnects_and_fills_gap(engine, fake):
    channels = channels_of(_watch(fake).queries(SOURCE))
    options = MastodonStreamOptions(stall_s=0.5, backoff_s=0.05, max_backoff_s=0.2)
    ingest = LiveIngest(engine, MastodonStream(channels, make_client, options), flush_seconds=0.1)
    with listening(ingest):
        assert wait_for(lambda: fake.open_streams() == 1)
        fake.publish(status(1, "acme down", tags=("acme",)))
        assert wait_for(lambda: len(stored(engine)) == 1)
        fake.stalled = True
        fake.publish(status(2, "acme still down", tags=("acme",)))  # held by the stalled stream
        assert wait_for(lambda: ingest.stats.state == "reconnecting")
        fake.stalled = False
        assert wait_for(lambda: len(stored(engine)) == 2)
    assert sum("/streaming/hashtag" in r for r in fake.requests) >= 2


def test_mastodon_stream_options__bad_timelines__one_line_error():
    with pytest.raises(ConfigError, match="timelines"):
        MastodonStreamOptions.from_options({"timelines": ["home"]})


def test_channels_of__timeline_shared_by_brands__one_connection():
    watch = parse_watch(
        {
            "brands": [
                {"name": "acme", "terms": ["acme"], "hashtags": ["acme"]},
                {"name": "globex", "terms": ["globex"]},
            ],
            "sources": {"mastodon_stream": {"instances": ["m.example"], "timelines": ["local"]}},
        }
    )
    channels = {c.key: c for c in channels_of(watch.queries(SOURCE))}
    assert sorted(channels) == ["#acme@m.example", "timeline:local@m.example"]
    assert [q.brand for q in channels["timeline:local@m.example"].queries] == ["acme", "globex"]
