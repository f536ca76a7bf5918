"""Alerts delivered to real local servers: a webhook receiver and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from flarewatch.alerts.channels import AlertSettings, dispatch
from flarewatch.alerts.message import Alert, alert_from_event

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
EVENT = {
    "id": 7,
    "brand": "acme",
    "started_at": AT,
    "detected_at": AT,
    "observed": 42,
    "baseline": 6.0,
    "ratio": 7.0,
    "severity": 81.0,
    "early_warning": True,
    "themes": [{"label": "refund · cancelled"}],
}
SAMPLES = [{"text": "no refund <b>again</b>", "url": "https://x.com/a/status/1"}]


def _alert() -> Alert:
    return alert_from_event(EVENT, "http://127.0.0.1:8501", SAMPLES)


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict]]]:
    """An HTTP server on 127.0.0.1 that records each JSON body POSTed to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "json": json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list]]:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Keep(Message):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list = []

        def handle_message(self, message) -> None:
            self.messages.append(message)

    with socket.socket() as probe:  # aiosmtpd cannot start on port 0: find a free one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler.messages
    controller.stop()


def test_alert_from_event__counts_baseline_themes_samples_link():
    alert = _alert()
    assert alert.title == "Possible incident: acme"
    assert alert.themes == ["refund · cancelled"]
    assert alert.dashboard_url.startswith("http://127.0.0.1:8501/?brand=acme&at=2026-03-02")


def test_dispatch__slack_and_webhook_receive_their_shapes(receiver):
    url, received = receiver
    settings = AlertSettings(slack_webhook_url=f"{url}/slack", webhook_url=f"{url}/hook")
    assert dispatch(settings, _alert()) == {"slack": "sent", "webhook": "sent"}
    slack, hook = received
    assert slack["path"] == "/slack" and "42 people posting negatively" in slack["json"]["text"]
    text = json.dumps(slack["json"]["blocks"], ensure_ascii=False)
    assert "&lt;b&gt;again" in text and "refund · cancelled" in text and "Open dashboard" in text
    assert hook["json"]["type"] == "flarewatch.spike"
    assert hook["json"]["alert"]["baseline"] == 6.0
    assert hook["json"]["alert"]["samples"][0]["url"] == "https://x.com/a/status/1"


def test_dispatch__email_over_smtp(smtp_server):
    port, messages = smtp_server
    settings = AlertSettings(
        smtp_host="127.0.0.1", smtp_port=port, email_to=("oncall@example.org",)
    )
    assert dispatch(settings, _alert()) == {"email": "sent"}
    [message] = messages
    assert message["Subject"] == "[Flarewatch] Possible incident: acme"
    body = message.get_payload(decode=True).decode()
    assert "baseline 6.0" in body and "https://x.com/a/status/1" in body and "Dashboard:" in body


def test_dispatch__failure_is_reported_without_the_url():
    settings = AlertSettings(webhook_url="http://127.0.0.1:9/secret-token")
    outcome = dispatch(settings, _alert())
    assert outcome["webhook"].startswith("failed:") and "secret" not in outcome["webhook"]


def test_alert_settings__from_env(monkeypatch):
    monkeypatch.setenv("FLAREWATCH_SLACK_WEBHOOK_URL", "https://hooks.example/x")
    monkeypatch.setenv("FLAREWATCH_ALERT_EMAIL_TO", "a@example.org, b@example.org")
    settings = AlertSettings.from_env()
    assert settings.slack_webhook_url == "https://hooks.example/x"
    assert settings.email_to == ("a@example.org", "b@example.org") and settings.any
