"""`flarewatch run` as a supervisor: a stream and scoring side by side, stopped cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from flarewatch.collectors.watch import parse_watch
from flarewatch.pipeline.stream import CURSOR_KEY, SOURCE
from flarewatch.pipeline.supervisor import Supervisor
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade
from tests.helpers.fake_jetstream import FakeJetstream, now_us, post_event
from tests.helpers.keyword_scorer import KeywordScorer

pytestmark = pytest.mark.slow


def _watch_toml(url: str) -> str:
    return f"""
[[brands]]
name = "acme"
terms = ["acme"]

[sources.bluesky_stream]
endpoint = "{url}"
appview = "http://127.0.0.1:9/xrpc"
backoff_s = 0.05
flush_seconds = 0.2
"""


@pytest.fixture
def fake():
    server = FakeJetstream()
    server.start()
    yield server
    server.stop()


def _wait(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_supervisor__stream_and_scoring__posts_stored_and_scored(engine, fake):
    import tomllib

    start = now_us()
    with session_scope(engine) as session:
        queries.set_cursor(session, SOURCE, CURSOR_KEY, str(start))
    for k in range(40):
        text = "acme is down again" if k % 4 == 0 else "nice weather"
        fake.publish(post_event("did:plc:a", f"k{k}", text, start + k))
    scorer = KeywordScorer()
    watch = parse_watch(tomllib.loads(_watch_toml(fake.url)))
    supervisor = Supervisor(engine, watch, scorer, None, echo=lambda line: None)
    thread = threading.Thread(target=supervisor.run)
    thread.start()
    try:

        def scored():
            with session_scope(engine) as session:
                return queries.count_scores(session, scorer.version)

        assert _wait(lambda: scored() == 10)
        fake.disconnect()
        for k in range(40, 48):
            fake.publish(post_event("did:plc:b", f"k{k}", "acme outage", start + k))
        assert _wait(lambda: scored() == 18)
    finally:
        supervisor.stop.set()
        thread.join(20)
    assert not thread.is_alive()
    with session_scope(engine) as session:
        assert queries.count_posts(session) == 18
        assert queries.get_cursor(session, SOURCE, CURSOR_KEY) == str(start + 47)
        health = {h["source"]: h for h in queries.source_health(session)}
    assert health[SOURCE]["stream_state"] == "stopped"


def test_cli_run__sigterm__stops_with_cursor_saved(tmp_path, fake):
    start = now_us()
    db = f"sqlite:///{tmp_path / 'fw.db'}"
    engine = make_engine(db)
    upgrade(engine)
    with session_scope(engine) as session:
        queries.set_cursor(session, SOURCE, CURSOR_KEY, str(start))
    for k in range(20):
        fake.publish(post_event("did:plc:a", f"k{k}", f"acme post {k}", start + k))
    watch = tmp_path / "watch.toml"
    watch.write_text(_watch_toml(fake.url), encoding="utf-8")
    env = {**os.environ, "FLAREWATCH_WATCH_FILE": str(watch), "FLAREWATCH_DATABASE_URL": db}
    process = subprocess.Popen(
        [sys.executable, "-m", "flarewatch", "run", "--no-score"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def stored():
        with session_scope(engine) as session:
            return queries.count_posts(session)

    try:
        assert _wait(lambda: stored() == 20, timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "stopped: cursors saved" in output
    with session_scope(engine) as session:
        assert queries.get_cursor(session, SOURCE, CURSOR_KEY) == str(start + 19)


def test_score_pending__bounded_worker_pass__stops_after_max_chunks(engine):
    from flarewatch.pipeline.score import WorkerOptions, score_pending
    from tests.conftest import make_post

    with session_scope(engine) as session:
        queries.save_posts(session, [make_post(i, "down") for i in range(5)])
    scorer = KeywordScorer()
    worker = WorkerOptions("w1")
    assert score_pending(engine, scorer, worker=worker, chunk=2, max_chunks=1) == 2
    assert score_pending(engine, scorer, worker=worker, chunk=2, max_chunks=5) == 3
    started = time.monotonic()
    assert score_pending(engine, scorer, worker=worker, chunk=2, max_chunks=1) == 0
    assert time.monotonic() - started < 1.0  # nothing to claim: back at once, no waiting


def test_supervisor__mastodon_stream_from_watch_file__stored_scored_x_skipped_without_token(engine):
    import tomllib

    from tests.helpers.fake_mastodon import FakeMastodon, status

    fake = FakeMastodon()
    fake.route_tag("acme")
    fake.start()
    watch = parse_watch(
        tomllib.loads(
            f"""
[[brands]]
name = "acme"
terms = ["acme"]
hashtags = ["acme"]

[sources.mastodon_stream]
instances = ["{fake.url}"]
backoff_s = 0.05
flush_seconds = 0.2

[sources.x_stream]
"""
        )
    )
    scorer, lines = KeywordScorer(), []
    supervisor = Supervisor(engine, watch, scorer, None, echo=lines.append)
    thread = threading.Thread(target=supervisor.run)
    thread.start()
    try:
        assert _wait(lambda: fake.open_streams() == 1)
        for n in range(3):
            fake.publish(status(n, f"acme is down {n}", tags=("acme",)))

        def scored():
            with session_scope(engine) as session:
                return queries.count_scores(session, scorer.version)

        assert _wait(lambda: scored() == 3)
    finally:
        supervisor.stop.set()
        thread.join(20)
        fake.stop()
    assert not thread.is_alive()
    with session_scope(engine) as session:
        health = {h["source"]: h for h in queries.source_health(session)}
        cursor = queries.get_cursor(session, "mastodon_stream", f"#acme@{fake.url}")
    assert health["mastodon_stream"]["stream_state"] == "stopped"
    assert cursor == status(2, "")["id"]
    # No X_BEARER_TOKEN: the X stream is skipped with one line, the others run.
    assert (
        lines[0].startswith("x_stream: skipped: missing credential")
        and "X_BEARER_TOKEN" in lines[0]
    )
    assert "X_BEARER_TOKEN" in health["x_stream"]["last_error"]


def test_make_listener__x_stream_without_token__one_line_error(sqlite_engine):
    from flarewatch.config import ConfigError
    from flarewatch.pipeline.live import make_listener

    watch = parse_watch(
        {"brands": [{"name": "acme", "terms": ["acme"]}], "sources": {"x_stream": {}}}
    )
    with pytest.raises(ConfigError, match="X_BEARER_TOKEN"):
        make_listener(sqlite_engine, watch, "x_stream", env={})
    listener = make_listener(sqlite_engine, watch, "x_stream", env={"X_BEARER_TOKEN": "t"})
    assert [values for _, values in listener.stream.rules.values()] == [["(acme) -is:retweet"]]
