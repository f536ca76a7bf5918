"""Silent sources over a database: a feed that stops while its source runs fine alerts once."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from flarewatch import api
from flarewatch.alerts.channels import AlertSettings
from flarewatch.pipeline.monitor import SilenceCheck
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import T0, make_post

# Two days of a post every 10 minutes for acme on x, the last at T0.
LAST = T0


@pytest.fixture
def receiver():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield AlertSettings(webhook_url=f"http://127.0.0.1:{server.server_port}/"), received
    server.shutdown()
    server.server_close()


def _post(engine, i: int, minutes: int) -> None:
    with session_scope(engine) as s:
        queries.save_posts(s, [make_post(i, "status", author=f"u{i % 9}", minutes=minutes)])


def _ran(engine, at) -> None:
    """A successful collection run of x at `at` (whether or not it found posts)."""
    with session_scope(engine) as s:
        queries.record_source_success(s, "x", 0, at=at)


def _seed(engine) -> None:
    with session_scope(engine) as s:
        posts = [make_post(i, "status", author=f"u{i % 9}", minutes=-10 * i) for i in range(288)]
        queries.save_posts(s, posts)
    _ran(engine, LAST)


def test_check_silence__a_source_running_without_posts_goes_silent_and_alerts_once(
    engine, receiver
):
    settings, received = receiver
    _seed(engine)
    assert api.check_silence(engine, settings, now=LAST + timedelta(minutes=20)) == []
    _ran(engine, LAST + timedelta(hours=3))  # the collector runs fine, finds nothing
    now = LAST + timedelta(hours=3)
    [(event, outcome)] = api.check_silence(engine, settings, now=now)
    assert event.kind == "silent" and event.stretch.start == LAST
    assert event.stretch.silent_since == LAST + timedelta(minutes=30)  # 3 × the usual 10 min
    assert outcome == {"webhook": "sent"}
    assert received[0]["type"] == "flarewatch.silence"
    assert "x for acme is silent" in received[0]["alert"]["summary"]
    _ran(engine, now + timedelta(hours=1))
    assert api.check_silence(engine, settings, now=now + timedelta(hours=1)) == []
    assert len(received) == 1
    feeds = api.source_silence(engine, now=now)
    assert feeds.to_dict("records")[0] | {"checked_until": None} == {
        "source": "x",
        "brand": "acme",
        "state": "silent",
        "last_post_at": LAST,
        "silent_since": LAST + timedelta(minutes=30),
        "usual_gap_minutes": 10.0,
        "checked_until": None,
    }
    assert api.source_health(engine, now=now)["state"].tolist() == ["silent (acme)"]


def test_check_silence__recovers_when_posts_return(engine, receiver):
    settings, received = receiver
    _seed(engine)
    _ran(engine, LAST + timedelta(hours=3))
    [(silent, _)] = api.check_silence(engine, settings, now=LAST + timedelta(hours=3))
    _post(engine, 5000, minutes=3 * 60 + 5)
    _ran(engine, LAST + timedelta(hours=3, minutes=10))
    now = LAST + timedelta(hours=3, minutes=10)
    [(back, _)] = api.check_silence(engine, settings, now=now)
    assert (
        silent.kind == "silent"
        and back.kind == "recovered"
        and back.stretch.end == LAST + timedelta(hours=3, minutes=5)
    )
    assert [r["alert"]["title"] for r in received] == [
        "Source silent: x for acme",
        "Source back: x for acme",
    ]
    assert api.source_silence(engine, now=now)["state"].tolist() == ["ok"]
    assert api.source_health(engine, now=now)["state"].tolist() == ["ok"]


def test_check_silence__a_failing_source_is_not_silent(engine):
    _seed(engine)  # its last good run was at the last post: the gap after is failure
    with session_scope(engine) as s:
        queries.record_source_failure(s, "x", "HTTP 503", at=LAST + timedelta(hours=3))
    assert api.check_silence(engine, now=LAST + timedelta(hours=3)) == []
    assert api.source_silence(engine, now=LAST + timedelta(hours=3))["state"].tolist() == ["ok"]


def test_silence_check__the_monitor_loop_checks_at_most_every_few_minutes(engine):
    _seed(engine)
    _ran(engine, LAST + timedelta(hours=3))
    loop = SilenceCheck(engine, alert=False)
    [line] = loop.run_due(LAST + timedelta(hours=3))
    assert line.startswith("x for acme is silent")
    assert loop.run_due(LAST + timedelta(hours=3, minutes=1)) == []
    assert loop.run_due(LAST + timedelta(hours=4)) == []  # alerted once per stretch
