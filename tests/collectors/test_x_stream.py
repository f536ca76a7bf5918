"""X's filtered stream through tweepy against a local fake API: rules, backfill, bad lines, refusal."""

from __future__ import annotations

import logging

import pytest
import tweepy

from flarewatch.collectors.twitter import XCollector
from flarewatch.collectors.watch import parse_watch
from flarewatch.collectors.x_stream import (
    SOURCE,
    XStream,
    XStreamOptions,
    advance,
    pack_rules,
    stream_rules,
    sync_rules,
    tag_of,
)
from flarewatch.config import ConfigError
from flarewatch.pipeline.live import LiveIngest
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.helpers.fake_x import FIRST_ID, FakeX, tweet
from tests.helpers.live_runner import listening, stored, wait_for

BRAND = {
    "name": "acme",
    "terms": ["acme", "acme cloud"],
    "handles": ["acmehelp"],
    "exclude": ["acme pie"],
}
FAST = XStreamOptions(backoff_s=0.05, max_backoff_s=0.2, poll_interval=0.3)


def _watch():
    return parse_watch({"brands": [BRAND], "sources": {"x_stream": {}}})


@pytest.fixture
def fake():
    server = FakeX()
    server.start()
    yield server
    server.stop()


def _stream(fake, retrier) -> XStream:
    watch = _watch()
    rules = stream_rules(watch.brands, watch.queries(SOURCE), {}, 512)
    client = tweepy.Client(bearer_token="fake-bearer", return_type=dict, wait_on_rate_limit=False)
    fake.mount(client.session)
    stream = XStream("fake-bearer", XCollector(client, retry=retrier), rules, FAST)
    fake.mount(stream.connection.session)
    return stream


def _key() -> str:
    return _watch().queries(SOURCE)[0].key


def _cursor(engine) -> str | None:
    with session_scope(engine) as session:
        return queries.get_cursor(session, SOURCE, _key())


def _ids(engine) -> set[int]:
    return {int(k) - FIRST_ID for k in stored(engine)}


def test_pack_rules__long_term_lists__split_under_the_length_limit():
    terms = [f"acmeproduct{n:03d}" for n in range(120)]
    brand = parse_watch({"brands": [{"name": "acme", "terms": terms, "exclude": ["pie"]}]}).brands[
        0
    ]
    rules = pack_rules(brand, {}, 512)
    assert len(rules) > 1
    assert all(len(r) <= 512 and r.endswith(' -"pie" -is:retweet') for r in rules)
    assert sorted(t for r in rules for t in r.split(")")[0].strip("(").split(" OR ")) == terms
    with pytest.raises(ConfigError, match="does not fit"):
        pack_rules(brand, {}, 30)


@pytest.mark.slow
def test_sync_rules__stale_ours_replaced_others_kept(fake, retrier):
    fake.rules = {
        "1": {"value": "old acme", "tag": "flarewatch:0123456789ab"},
        "2": {"value": "cats", "tag": "someone else"},
    }
    stream = _stream(fake, retrier)
    sync_rules(stream.connection, stream.rules, max_rules=25)
    assert sorted(r["value"] for r in fake.rules.values()) == [
        '(acme OR "acme cloud" OR @acmehelp) -"acme pie" -is:retweet',
        "cats",
    ]
    before = list(fake.requests)
    sync_rules(stream.connection, stream.rules, max_rules=25)  # unchanged: nothing sent
    assert [r for r in fake.requests[len(before) :] if r.startswith("POST")] == []
    with pytest.raises(ConfigError, match="rules needed"):
        sync_rules(stream.connection, {**stream.rules, "flarewatch:x": (None, ["a", "b"])}, 2)


@pytest.mark.slow
def test_x_stream__disconnect__backfilled_with_since_id_stored_once(engine, fake, retrier):
    stream = _stream(fake, retrier)
    ingest = LiveIngest(engine, stream, flush_seconds=0.1)
    with listening(ingest):
        assert wait_for(lambda: fake.open_streams() == 1)
        fake.publish(tweet(1, "acme is down"))
        fake.publish(tweet(2, "I baked acme pie"))  # matched X's rule, only an exclude: dropped
        assert wait_for(lambda: _ids(engine) == {1})
        fake.stream_status = 503
        fake.disconnect()
        assert wait_for(lambda: ingest.stats.state == "reconnecting")
        for n in range(3, 8):  # posted while the stream was down: search only
            fake.publish(tweet(n, f"acme outage {n}"), live=False)
        fake.stream_status = 200
        assert wait_for(lambda: _ids(engine) == {1, 3, 4, 5, 6, 7})
        fake.publish(tweet(8, "acme cloud back"))
        assert wait_for(lambda: 8 in _ids(engine))
    searches = [r for r in fake.requests if "/search/recent" in r]
    assert f"since_id={FIRST_ID + 2}" in searches[0]  # from the newest post the stream delivered
    assert ingest.stats.inserted == 7
    assert _cursor(engine) == f'{{"floor": "{FIRST_ID + 8}"}}'
    assert stored(engine)[str(FIRST_ID + 1)] == ("acme is down", False, "acme")


@pytest.mark.slow
def test_x_stream__malformed_lines_and_foreign_rules__skipped_stream_goes_on(
    engine, fake, retrier, caplog
):
    caplog.set_level(logging.WARNING)
    stream = _stream(fake, retrier)
    ingest = LiveIngest(engine, stream, flush_seconds=0.1)
    with listening(ingest):
        assert wait_for(lambda: fake.open_streams() == 1)
        fake.broadcast(b"{not json\r\n")
        fake.broadcast(b'{"errors": [{"title": "operational-disconnect"}]}\r\n')
        fake.broadcast(b'{"data": {"id": "5"}}\r\n')  # no text, no time
        fake.rules["9"] = {"value": "cats", "tag": "someone else"}
        fake.publish(tweet(1, "cats are great"), tags=["someone else"])
        fake.publish(tweet(2, "acme down"))
        assert wait_for(lambda: _ids(engine) == {2})
    assert len([r for r in fake.requests if r.startswith("GET /2/tweets/search/stream?")]) == 1
    assert "malformed message" in caplog.text and "operational-disconnect" in caplog.text


@pytest.mark.slow
def test_x_stream__stalled_server__reconnects_and_backfills(engine, fake, retrier):
    stream = _stream(fake, retrier)
    stream.options = XStreamOptions(backoff_s=0.05, max_backoff_s=0.2, stall_s=0.5)
    ingest = LiveIngest(engine, stream, flush_seconds=0.1)
    with listening(ingest):
        assert wait_for(lambda: fake.open_streams() == 1)
        fake.publish(tweet(1, "acme down"))
        assert wait_for(lambda: _ids(engine) == {1})
        fake.stalled = True
        fake.publish(tweet(2, "acme still down"))  # held by the stalled stream
        assert wait_for(lambda: ingest.stats.state == "reconnecting")
        fake.stalled = False
        assert wait_for(lambda: _ids(engine) == {1, 2})
    assert len([r for r in fake.requests if r.startswith("GET /2/tweets/search/stream?")]) >= 2


@pytest.mark.slow
def test_x_stream__restart__backfills_from_saved_cursor(engine, fake, retrier):
    with listening(LiveIngest(engine, _stream(fake, retrier), flush_seconds=0.1)):
        assert wait_for(lambda: fake.open_streams() == 1)
        fake.publish(tweet(1, "acme down"))
        assert wait_for(lambda: _cursor(engine) is not None)
    fake.publish(tweet(2, "acme still down"), live=False)
    with listening(LiveIngest(engine, _stream(fake, retrier), flush_seconds=0.1)):
        assert wait_for(lambda: _ids(engine) == {1, 2})
    assert any(f"since_id={FIRST_ID + 1}" in r for r in fake.requests)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["stream", "rules"])
def test_x_stream__refused_403__one_line_then_polls_search(engine, fake, retrier, caplog, where):
    caplog.set_level(logging.WARNING)
    fake.stream_status = 403
    fake.rules_status = 403 if where == "rules" else 200
    fake.publish(tweet(1, "acme down"), live=False)
    ingest = LiveIngest(engine, _stream(fake, retrier), flush_seconds=0.1)
    with listening(ingest):
        assert wait_for(lambda: _ids(engine) == {1})
        fake.publish(tweet(2, "acme still down"), live=False)
        assert wait_for(lambda: _ids(engine) == {1, 2})
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1
    what = "the stream was refused" if where == "stream" else "the stream's rules were refused"
    assert refused[0].getMessage() == (
        f"x stream: {what} (HTTP 403: the access level does not include the "
        "filtered stream); polling recent search every 0 s instead"
    )
    stream_requests = [r for r in fake.requests if r.startswith("GET /2/tweets/search/stream?")]
    assert len(stream_requests) == (1 if where == "stream" else 0)
    with session_scope(engine) as session:
        health = {h["source"]: h for h in queries.source_health(session)}[SOURCE]
    assert health["last_error"] == refused[0].getMessage()
    assert health["posts_collected"] == 2


def test_advance__floor_rises_but_never_past_a_half_done_sweep():
    assert advance(None, "5") == '{"floor": "5"}'
    assert advance('{"floor": "9"}', "5") == '{"floor": "9"}'
    assert advance('{"floor": "9"}', "12") == '{"floor": "12"}'
    sweeping = '{"floor": "9", "page": "t", "top": "20"}'
    assert advance(sweeping, "25") == sweeping


def test_tag_of__stable_per_query():
    query = _watch().queries(SOURCE)[0]
    again = _watch().queries(SOURCE)[0]
    assert tag_of(query) == tag_of(again) == "flarewatch:" + tag_of(query).split(":")[1]
    assert len(tag_of(query)) == len("flarewatch:") + 12
