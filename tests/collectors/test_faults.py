"""Fault tests: rate limits, outages, timeouts, bad JSON and a kill between fetch and save."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import httpx
import pytest
import requests
import responses
from sqlalchemy import func, select

from flarewatch.collectors import twitter
from flarewatch.collectors.backoff import Backoff, Retrier, delay_from_headers
from flarewatch.collectors.hackernews import API_URL, HNCollector
from flarewatch.pipeline.ingest import collect_source
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.schema import Post
from tests.collectors.build_cassettes import HN_A, HN_B, HN_C, T, hn_page
from tests.collectors.conftest import NOW
from tests.collectors.recording import recording
from tests.collectors.test_sources import WATCH

X_QUERIES = WATCH.queries("x")
HN_QUERIES = WATCH.queries("hackernews")
SEARCH = "https://api.twitter.com/2/tweets/search/recent"
ONE_TWEET = {
    "data": [
        {
            "id": "7",
            "text": "acmecloud down",
            "author_id": "1",
            "created_at": "2026-03-02T12:00:00.000Z",
        }
    ],
    "includes": {"users": [{"id": "1", "username": "u", "name": "U"}]},
    "meta": {"newest_id": "7", "oldest_id": "7", "result_count": 1},
}


class Script:
    """An httpx transport that serves scripted replies in order and must serve them all."""

    def __init__(self, *replies):
        self.replies, self.requests = list(replies), []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=API_URL, transport=httpx.MockTransport(self))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert not self.replies, f"{len(self.replies)} scripted replies never served"


def health(engine):
    with session_scope(engine) as session:
        return {h["source"]: h for h in queries.source_health(session)}


def count(engine):
    with session_scope(engine) as session:
        return session.scalar(select(func.count(Post.id)))


def test_x__429_with_reset_header__waits_until_reset_then_collects(engine, env, retrier):
    collector = twitter.XCollector(twitter.make_client(env), retry=retrier)
    with recording("x_rate_limited"):
        result = collect_source(engine, collector, X_QUERIES)
    assert (result.inserted, result.error) == (1, None)
    assert len(retrier.slept) == 1 and 30 <= retrier.slept[0] <= 31  # reset = now + 30 s
    assert health(engine)["x"]["consecutive_failures"] == 0


@responses.activate(assert_all_requests_are_fired=True)
def test_x__429_reset_beyond_max_sleep__recorded_and_rescheduled(engine, env, retrier):
    responses.get(
        SEARCH,
        status=429,
        json={"title": "Too Many Requests"},
        headers={"x-rate-limit-reset": str(int(NOW) + 900)},
    )
    collector = twitter.XCollector(twitter.make_client(env), retry=retrier)
    result = collect_source(engine, collector, X_QUERIES)
    assert result.retry_after == 900 and "rate limited" in result.error
    assert retrier.slept == []  # did not block the other sources for 15 minutes
    assert health(engine)["x"]["consecutive_failures"] == 1


@responses.activate(assert_all_requests_are_fired=True)
def test_x__5xx_and_timeout__retried_with_jittered_backoff(engine, env, retrier):
    responses.get(SEARCH, status=503, json={"title": "Service Unavailable"})
    responses.get(SEARCH, body=requests.exceptions.ReadTimeout("read timed out"))
    responses.get(SEARCH, json=ONE_TWEET)
    collector = twitter.XCollector(twitter.make_client(env), retry=retrier)
    result = collect_source(engine, collector, X_QUERIES)
    assert (result.inserted, result.error) == (1, None)
    assert len(retrier.slept) == 2
    assert 0 <= retrier.slept[0] <= 1 and 0 <= retrier.slept[1] <= 2  # full jitter windows


@responses.activate(assert_all_requests_are_fired=True)
def test_x__malformed_json__fails_cleanly_then_rerun_collects(engine, env, retrier):
    for _ in range(4):
        responses.get(SEARCH, body="<html>upstream error", content_type="application/json")
    collector = twitter.XCollector(twitter.make_client(env), retry=retrier)
    failed = collect_source(engine, collector, X_QUERIES)
    assert "malformed JSON" in failed.error and count(engine) == 0
    with session_scope(engine) as session:
        assert queries.get_cursor(session, "x", X_QUERIES[0].key) is None
    responses.get(SEARCH, json=ONE_TWEET)
    rerun = collect_source(engine, collector, X_QUERIES)
    assert (rerun.inserted, rerun.error) == (1, None)
    state = health(engine)["x"]
    assert state["consecutive_failures"] == 0 and state["posts_collected"] == 1
    assert state["last_error"].startswith("TransientError: x: malformed JSON")


def test_hn__timeout_then_5xx_then_ok(engine, retrier):
    with Script(
        httpx.ReadTimeout("slow"),
        httpx.Response(502, text="bad gateway"),
        httpx.Response(200, json=hn_page([HN_A], 100)),
    ) as script:
        result = collect_source(engine, HNCollector(script.client(), retry=retrier), HN_QUERIES)
    assert (result.inserted, result.error, len(retrier.slept)) == (1, None, 2)


def test_hn__malformed_json_on_page_two__first_page_kept_and_sweep_resumes(engine, retrier):
    page1 = httpx.Response(200, json=hn_page([HN_A, HN_B], 2))
    broken = [httpx.Response(200, text='{"hits": [') for _ in range(4)]
    with Script(page1, *broken) as script:
        failed = collect_source(
            engine, HNCollector(script.client(), retry=retrier, page_size=2), HN_QUERIES
        )
    assert failed.error and count(engine) == 2
    with Script(
        httpx.Response(200, json=hn_page([HN_B, HN_C], 2)),
        httpx.Response(200, json=hn_page([HN_C], 2)),
    ) as script:
        rerun = collect_source(
            engine, HNCollector(script.client(), retry=retrier, page_size=2), HN_QUERIES
        )
    # The rerun continued below page one instead of starting over or skipping ahead.
    assert f"created_at_i<={T + 200}" in str(script.requests[0].url.params["numericFilters"])
    assert rerun.inserted == 1 and count(engine) == 3


def test_retry_after__http_date_and_platform_headers():
    assert delay_from_headers({"Retry-After": "120"}, NOW) == 120
    assert delay_from_headers({"Retry-After": "Mon, 02 Mar 2026 12:01:00 GMT"}, NOW) == 60
    assert delay_from_headers({"x-rate-limit-reset": str(int(NOW) + 45)}, NOW) == 45
    assert delay_from_headers({"X-RateLimit-Reset": "2026-03-02T12:05:00.000Z"}, NOW) == 300
    assert delay_from_headers({"x-ratelimit-reset": "420"}, NOW) == 420
    assert delay_from_headers({"ratelimit-reset": str(int(NOW) - 5)}, NOW) == 0
    assert delay_from_headers({}, NOW) is None


def test_retrier__gives_up_after_attempts():
    slept = []
    retry = Retrier(Backoff(attempts=3), sleep=slept.append)
    with pytest.raises(Exception, match="hackernews: network error"):
        from flarewatch.collectors.hackernews import translate

        retry(lambda: (_ for _ in ()).throw(httpx.ConnectError("down")), translate)
    assert len(slept) == 2


KILLED_RUN = textwrap.dedent("""
    import os, sys, httpx
    from flarewatch.collectors.hackernews import API_URL, HNCollector
    from flarewatch.pipeline.ingest import collect_source
    from flarewatch.collectors.watch import Query
    from flarewatch.storage import queries
    from flarewatch.storage.engine import make_engine

    pages = [httpx.Response(200, json=p) for p in PAGES]
    transport = httpx.MockTransport(lambda request: pages.pop(0))
    collector = HNCollector(httpx.Client(base_url=API_URL, transport=transport), page_size=2)
    real_save, saves = queries.save_posts, []

    def save_or_die(session, posts):
        saves.append(1)
        if len(saves) == KILL_AT:
            os._exit(9)  # like SIGKILL: no commit, no cleanup, no finally blocks
        return real_save(session, posts)

    queries.save_posts = save_or_die
    engine = make_engine(sys.argv[1])
    collect_source(engine, collector, [Query("hackernews", "acmecloud", "acme")])
""")


def _run_killable(url: str, pages: list, kill_at: int) -> int:
    script = (
        f"import json\nPAGES = json.loads({json.dumps(pages)!r})\nKILL_AT = {kill_at}\n"
        + KILLED_RUN
    )
    return subprocess.run([sys.executable, "-c", script, url], timeout=120).returncode


@pytest.mark.slow  # runs and kills a collector process
def test_runner__killed_between_fetch_and_save__rerun_stores_every_post_once(sqlite_engine):
    url = sqlite_engine.url.render_as_string(hide_password=False)
    first, second, third = hn_page([HN_A, HN_B], 2), hn_page([HN_B, HN_C], 2), hn_page([HN_C], 2)
    # Page two is fetched, then the process dies inside its save transaction.
    assert _run_killable(url, [first, second], kill_at=2) == 9
    assert count(sqlite_engine) == 2
    # The rerun refetches page two (page one's cursor was committed with page one) and finishes.
    assert _run_killable(url, [second, third], kill_at=0) == 0
    with session_scope(sqlite_engine) as session:
        ids = sorted(session.scalars(select(Post.external_id)))
        assert queries.get_cursor(session, "hackernews", "acmecloud") == json.dumps(
            {"floor": str(T + 300)}
        )
    assert ids == ["43000010", "43000020", "43000030"]
