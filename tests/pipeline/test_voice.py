"""Our own posts: markers, never sentiment; last public update; the going-dark alarm on a clock."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from flarewatch import api
from flarewatch.alerts.channels import AlertSettings
from flarewatch.collectors.watch import Query
from flarewatch.matching import Matcher
from flarewatch.pipeline.ingest import for_query
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import T0, make_post, score_down_as_negative

MODEL = "test-model"


def own_post(i: int, text: str, minutes: int):
    return dataclasses.replace(make_post(i, text, author="acmecloud", minutes=minutes), is_own=True)


def seed(engine, *, own_at: tuple[int, ...] = (), negative_from: int = -1440) -> int:
    """A day of calm before T0 (one negative post every 2 hours), a surge after, our posts."""
    posts = [
        make_post(i, "acme is down", author=f"u{i}", minutes=m)
        for i, m in enumerate(range(negative_from, 0, 120))
    ]
    posts += [make_post(1000 + i, "acme down again", author=f"s{i}", minutes=i) for i in range(60)]
    posts += [
        own_post(5000 + i, "We are investigating login errors", m) for i, m in enumerate(own_at)
    ]
    with session_scope(engine) as session:
        queries.save_posts(session, posts)
        score_down_as_negative(session, MODEL)
    return api.open_incident(engine, "Login errors", brand="acme", severity="SEV1", opened_at=T0).id


def test_own_posts__never_scored_never_counted_but_shown_as_markers(engine):
    seed(engine, own_at=(5, 50))
    with session_scope(engine) as session:
        assert queries.count_unscored(session, MODEL) == 0
        counts = queries.timeline(session, model_version=MODEL, bucket_minutes=60, brand="acme")
        negative = queries.negative_posts(session, model_version=MODEL, brand="acme", limit=500)
    assert sum(n for _, _, n in counts) == 12 + 60
    assert not any("investigating" in p["text"] for p in negative)
    markers = api.own_posts(engine, brand="acme")
    assert markers["text"].tolist() == ["We are investigating login errors"] * 2
    assert list(markers.columns) == api.OWN_POST_COLUMNS


def test_own_post__found_by_search_first_is_marked_ours_and_its_score_dropped(engine):
    ordinary = make_post(7, "acme status: we are on it", author="acmecloud")
    with session_scope(engine) as session:
        queries.save_posts(session, [ordinary])
        score_down_as_negative(session, MODEL)
        assert queries.count_scores(session, MODEL) == 1
        queries.save_posts(session, [dataclasses.replace(ordinary, is_own=True)])
        assert queries.count_scores(session, MODEL) == 0
        queries.save_posts(session, [ordinary])  # a search that does not know us
        assert len(queries.own_posts(session)) == 1


def test_for_query__author_matching_our_account_is_ours_even_with_an_excluded_word():
    query = Query("x", "q", "acme", Matcher(("acme",), exclude=("acme anvil",)), "acmecloud")
    posts = [
        make_post(1, "acme anvil sale", author="AcmeCloud", brand=None),
        make_post(2, "acme anvil sale", author="fan", brand=None),
        make_post(3, "acme is down", author="fan", brand=None),
    ]
    kept = for_query(posts, query)
    assert [(p.external_id, p.is_own, p.brand) for p in kept] == [
        ("1", True, "acme"),
        ("3", False, "acme"),
    ]


def test_last_public_update__own_posts_and_sent_updates(engine):
    incident = seed(engine, own_at=(10,))
    assert api.last_public_update(engine, "acme") == T0 + timedelta(minutes=10)
    status = api.voice_status(engine, incident, now=T0 + timedelta(minutes=25))
    assert status == {
        "last_update": T0 + timedelta(minutes=10),
        "minutes_since": 15,
        "limit_minutes": 30,
        "silent": False,
    }
    assert api.voice_status(engine, incident, now=T0 + timedelta(minutes=41))["silent"]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict]]]:
    """A webhook receiver on 127.0.0.1 recording each JSON body."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def test_going_dark__one_alert_per_silence_stretch_on_a_clock(engine, receiver):
    url, received = receiver
    incident = seed(engine, own_at=(10,))
    settings = AlertSettings(webhook_url=url)

    def check(minutes: int) -> list:
        return api.check_going_dark(
            engine, settings, base_url="http://127.0.0.1:8501", now=T0 + timedelta(minutes=minutes)
        )

    assert check(30) == []  # 20 min after our update: within SEV1's 30
    first = check(41)
    assert [(r["incident_id"], r["since"], r["webhook"]) for r in first] == [
        (incident, T0 + timedelta(minutes=10), "sent")
    ]
    assert check(50) == [] and check(59) == []  # the same stretch: once
    assert received[0]["type"] == "flarewatch.silence"
    assert "No public update for 31 min" in received[0]["alert"]["summary"]
    with session_scope(engine) as session:  # we speak again, then go quiet again
        queries.save_posts(session, [own_post(6000, "Fix rolling out", 55)])
    assert check(80) == []
    assert [r["since"] for r in check(86)] == [T0 + timedelta(minutes=55)]
    assert len(received) == 2


def test_going_dark__not_while_complaints_are_at_baseline_or_for_low_severity(engine):
    incident = seed(engine)
    api.set_severity(engine, incident, "SEV3")
    settings = AlertSettings()
    assert api.check_going_dark(engine, settings, base_url="", now=T0 + timedelta(hours=2)) == []
    api.set_severity(engine, incident, "SEV1")
    # Three hours on the surge's hour is over: negative volume is back under the baseline.
    assert api.check_going_dark(engine, settings, base_url="", now=T0 + timedelta(hours=3)) == []
