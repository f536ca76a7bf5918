"""Statuspage and PagerDuty webhook payloads: parsing, applying, file import and the listener."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from click.testing import CliRunner

from flarewatch import api
from flarewatch.cli import cli
from flarewatch.webhooks.events import UnknownPayloadError, parse_event
from flarewatch.webhooks.listener import make_server, pagerduty_signature

# Shapes as documented for Statuspage incident webhooks and PagerDuty V3 webhooks.
STATUSPAGE_OPEN = {
    "meta": {
        "unsubscribe": "https://x.statuspage.io/?unsubscribe=j0vqr9kl3513",
        "documentation": "https://doers.statuspage.io/customer-notifications/webhooks/",
    },
    "page": {
        "id": "j2mfxwj97wnj",
        "status_indicator": "major",
        "status_description": "Partial System Outage",
    },
    "incident": {
        "id": "lbkhbwn21v5q",
        "name": "Login failures",
        "status": "investigating",
        "impact": "major",
        "created_at": "2026-03-02T12:00:00.000Z",
        "updated_at": "2026-03-02T12:01:00.000Z",
        "resolved_at": None,
        "shortlink": "http://stspg.io/803310a12",
        "incident_updates": [],
    },
}
STATUSPAGE_RESOLVED = {
    **STATUSPAGE_OPEN,
    "incident": {
        **STATUSPAGE_OPEN["incident"],
        "status": "resolved",
        "resolved_at": "2026-03-02T15:30:00.000Z",
    },
}
PAGERDUTY_TRIGGERED = {
    "event": {
        "id": "01DEN4HPBQAJ5ZBGNWZMBT6UEP",
        "event_type": "incident.triggered",
        "resource_type": "incident",
        "occurred_at": "2026-03-02T13:00:00.000Z",
        "agent": None,
        "client": None,
        "data": {
            "id": "PGR0VU2",
            "type": "incident",
            "self": "https://api.pagerduty.com/incidents/PGR0VU2",
            "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
            "number": 2,
            "status": "triggered",
            "incident_key": "d3640fbd41094207a1c11e58e46b1662",
            "created_at": "2026-03-02T13:00:00Z",
            "title": "API 5xx rate above 5%",
            "service": {"id": "PF9KMXH", "type": "service_reference"},
            "urgency": "high",
            "priority": {"id": "PSO75BM", "type": "priority_reference", "summary": "P1"},
        },
    }
}
PAGERDUTY_RESOLVED = {
    "event": {
        **PAGERDUTY_TRIGGERED["event"],
        "event_type": "incident.resolved",
        "occurred_at": "2026-03-02T14:00:00.000Z",
    }
}


def test_parse_event__statuspage_and_pagerduty():
    opened = parse_event(STATUSPAGE_OPEN)
    assert (opened.source, opened.external_id, opened.action) == (
        "statuspage",
        "lbkhbwn21v5q",
        "open",
    )
    assert opened.title == "Login failures" and opened.severity == "SEV2"
    resolved = parse_event(STATUSPAGE_RESOLVED)
    assert resolved.action == "resolve" and resolved.at.hour == 15
    paged = parse_event(PAGERDUTY_TRIGGERED)
    assert (paged.action, paged.severity, paged.title) == ("open", "SEV1", "API 5xx rate above 5%")
    assert parse_event(PAGERDUTY_RESOLVED).action == "resolve"
    with pytest.raises(UnknownPayloadError):
        parse_event({"hello": "world"})


def test_apply_incident_event__opens_resolves_and_replays_idempotently(engine):
    first = api.apply_incident_event(engine, parse_event(STATUSPAGE_OPEN), brand="acme")
    again = api.apply_incident_event(engine, parse_event(STATUSPAGE_OPEN), brand="acme")
    closed = api.apply_incident_event(engine, parse_event(STATUSPAGE_RESOLVED))
    assert first == again == closed
    incident = api.get_incident(engine, first)
    assert incident.status == "resolved" and incident.brand == "acme"
    assert incident.resolved_at.isoformat() == "2026-03-02T15:30:00+00:00"
    assert len(api.incidents(engine)) == 1


def test_incident_import__cli_reads_a_file_or_a_list(sqlite_engine, tmp_path):
    path = tmp_path / "events.json"
    path.write_text(json.dumps([PAGERDUTY_TRIGGERED, PAGERDUTY_RESOLVED]))
    url = sqlite_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["--database-url", url, "incident", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "pagerduty PGR0VU2: open -> incident 1" in result.output
    assert api.get_incident(sqlite_engine, 1).status == "resolved"


def test_listener__accepts_vendor_json_on_loopback(sqlite_engine):
    server = make_server(lambda e: api.apply_incident_event(sqlite_engine, e), port=0)
    assert server.server_address[0] == "127.0.0.1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        ok = httpx.post(f"{base}/webhooks/pagerduty", json=PAGERDUTY_TRIGGERED)
        bad = httpx.post(f"{base}/", content=b"not json")
        unknown = httpx.post(f"{base}/", json={"ping": True})
    finally:
        server.shutdown()
        server.server_close()
    assert ok.status_code == 200 and ok.json() == {"incident_id": 1, "action": "open"}
    assert bad.status_code == 400 and unknown.status_code == 400
    assert api.get_incident(sqlite_engine, 1).severity == "SEV1"


def test_listener__with_a_secret_takes_signed_or_secret_url_requests_only(sqlite_engine):
    secret = "s3cr3t-token"
    server = make_server(
        lambda e: api.apply_incident_event(sqlite_engine, e), port=0, secret=secret
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    body = json.dumps(PAGERDUTY_TRIGGERED).encode()
    signed = {"X-PagerDuty-Signature": "v1=0bad, " + pagerduty_signature(secret, body)}
    forged = {"X-PagerDuty-Signature": pagerduty_signature("guess", body)}
    try:
        unsigned = httpx.post(f"{base}/webhooks/pagerduty", content=body)
        wrong = httpx.post(f"{base}/webhooks/pagerduty", content=body, headers=forged)
        ok = httpx.post(f"{base}/webhooks/pagerduty", content=body, headers=signed)
        by_url = httpx.post(f"{base}/webhooks/{secret}", json=STATUSPAGE_OPEN)
    finally:
        server.shutdown()
        server.server_close()
    assert unsigned.status_code == wrong.status_code == 401
    assert ok.status_code == 200 and by_url.status_code == 200
    assert len(api.incidents(sqlite_engine)) == 2


def test_incident_listen__refuses_to_bind_beyond_loopback_without_a_secret(sqlite_engine):
    url = sqlite_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        cli,
        ["--database-url", url, "incident", "listen", "--host", "0.0.0.0", "--port", "0"],
        env={"FLAREWATCH_WEBHOOK_SECRET": ""},
    )
    assert result.exit_code == 1
    assert "set FLAREWATCH_WEBHOOK_SECRET first" in result.output
