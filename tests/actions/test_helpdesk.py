"""Helpdesk hand-off: Zendesk through zenpy on recorded HTTP, the generic webhook on a local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from zenpy import Zenpy

from flarewatch.actions.helpdesk import (
    HANDOFF_EVENT,
    WebhookHelpdesk,
    ZendeskHelpdesk,
    build_handoffs,
    ticket_priority,
)
from tests.actions.reply_recording import recording

INCIDENT = {"id": 1, "title": "Login outage", "severity": "SEV2"}
ROWS = [
    {
        "author_id": 1,
        "platform": "x",
        "handle": "ann",
        "priority": 80.0,
        "reason": "very negative",
        "latest_post": "acme is down",
        "latest_url": "https://x.com/ann/status/101",
        "reply_url": "https://x.com/i/web/status/9001",
    },
    {
        "author_id": 2,
        "platform": "x",
        "handle": "bob",
        "priority": 30.0,
        "reason": "repeated",
        "latest_post": "down again",
        "latest_url": None,
    },
]


def zendesk() -> ZendeskHelpdesk:
    client = Zenpy(subdomain="acme", email="ops@acme.test", token="fake-token", disable_cache=True)
    return ZendeskHelpdesk(client, "acme")


def test_build_handoffs__per_author_and_problem():
    per_author = build_handoffs(INCIDENT, ROWS, "author")
    assert [h.scope for h in per_author] == ["author:1", "author:2"]
    assert per_author[0].subject == "[SEV2] Login outage: @ann on x"
    assert "Our public reply: https://x.com/i/web/status/9001" in per_author[0].body
    assert per_author[0].links == ("https://x.com/ann/status/101",)
    (problem,) = build_handoffs(INCIDENT, ROWS, "problem")
    assert (problem.scope, problem.author_ids) == ("problem", (1, 2))
    assert "@bob on x" in problem.body
    with pytest.raises(ValueError, match="hand-off mode 'team'"):
        build_handoffs(INCIDENT, ROWS, "team")


def test_ticket_priority__severity_then_author():
    assert ticket_priority("SEV1", 0) == "urgent"
    assert [ticket_priority("SEV3", p) for p in (75, 45, 5)] == ["high", "normal", "low"]


def test_zendesk__create_show_update():
    (handoff,) = build_handoffs(INCIDENT, ROWS[:1], "author")
    with recording("zendesk_tickets"):
        desk = zendesk()
        ref = desk.create(handoff)
        status = desk.status(ref.ticket_id)
        after = desk.note(ref.ticket_id, "Follow-up sent: it's fixed.")
    assert (ref.ticket_id, ref.status) == ("35436", "new")
    assert ref.url == "https://acme.zendesk.com/agent/tickets/35436"
    assert (status, after) == ("solved", "solved")


def test_zendesk__401_is_one_line():
    (handoff,) = build_handoffs(INCIDENT, ROWS[:1], "author")
    with recording("zendesk_401"), pytest.raises(ValueError, match="zendesk: error 401"):
        zendesk().create(handoff)


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        Receiver.received.append(json.loads(self.rfile.read(length)))
        body = json.dumps({"id": "HD-7", "url": "https://help.acme.test/HD-7"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Receiver.received = []
    yield f"http://127.0.0.1:{server.server_port}/handoff"
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_webhook__posts_the_handoff_event(receiver):
    (handoff,) = build_handoffs(INCIDENT, ROWS, "problem")
    ref = WebhookHelpdesk(receiver).create(handoff)
    assert (ref.ticket_id, ref.url) == ("HD-7", "https://help.acme.test/HD-7")
    (event,) = Receiver.received
    assert event["event"] == HANDOFF_EVENT
    assert event["author_ids"] == [1, 2]
    assert event["priority"] == "high"


def test_webhook__unreachable_is_one_line():
    with pytest.raises(ValueError, match="hand-off webhook"):
        WebhookHelpdesk("http://127.0.0.1:9/handoff").create(build_handoffs(INCIDENT, ROWS)[0])
