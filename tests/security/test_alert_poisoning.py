"""Hostile brands and broken destinations: each alert destination fails alone and is owed its alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flarewatch.alerts.channels import AlertSettings
from flarewatch.alerts.message import alert_from_event, email_message, slack_payload
from flarewatch.pipeline.monitor import send_spike_alerts
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.analysis.test_alerts import receiver  # noqa: F401 (fixture)

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
BRAND = "acme\r\nBcc: everyone@example.org <!channel>"


def _spike(engine) -> int:
    fields = {
        "kind": "count",
        "started_at": AT - timedelta(hours=1),
        "peak_at": AT,
        "detected_at": AT,
        "ended_at": AT,
        "observed": 40,
        "baseline": 4.0,
        "ratio": 10.0,
        "severity": 80.0,
    }
    with session_scope(engine) as s:
        return queries.open_alert_event(s, BRAND, fields)


def _event(engine, event_id: int) -> dict:
    with session_scope(engine) as s:
        return next(e for e in queries.spike_events(s) if e["id"] == event_id)


def test_slack_payload__fallback_text_escapes_mentions():
    alert = alert_from_event(
        {
            "brand": BRAND,
            "observed": 3,
            "baseline": 1.0,
            "early_warning": True,
            "started_at": AT,
            "detected_at": AT,
            "ratio": 3.0,
            "severity": 50.0,
        },
        "http://x",
        [],
    )
    payload = slack_payload(alert)
    assert "<!channel>" not in payload["text"] and "&lt;!channel&gt;" in payload["text"]
    assert "<!channel>" not in str(payload["blocks"])


def test_email_message__brand_with_crlf_is_one_subject_line():
    alert = alert_from_event(
        {
            "brand": BRAND,
            "observed": 3,
            "baseline": 1.0,
            "early_warning": True,
            "started_at": AT,
            "detected_at": AT,
            "ratio": 3.0,
            "severity": 50.0,
        },
        "http://x",
        [],
    )
    message = email_message(alert, "fw@example.org", ["oncall@example.org"])
    assert "\n" not in message["Subject"] and message["Bcc"] is None


def test_send_spike_alerts__a_broken_destination_fails_alone_and_is_retried(
    sqlite_engine,
    receiver,  # noqa: F811
):
    url, received = receiver
    event_id = _spike(sqlite_engine)
    broken = AlertSettings(slack_webhook_url="ht tp://bad\nurl", webhook_url=f"{url}/hook")
    first = send_spike_alerts(sqlite_engine, broken, base_url="http://127.0.0.1:8501")
    assert first[0]["webhook"] == "sent" and first[0]["slack"].startswith("failed:")
    assert len(received) == 1 and _event(sqlite_engine, event_id)["alerted_at"] is None
    with session_scope(sqlite_engine) as s:
        health = {h["source"]: h for h in queries.source_health(s)}
    assert health["alert:slack"]["last_error"].startswith("failed:")

    second = send_spike_alerts(sqlite_engine, broken, base_url="http://127.0.0.1:8501")
    assert list(second[0]) == ["event_id", "slack"] and len(received) == 1  # no double webhook

    fixed = AlertSettings(slack_webhook_url=f"{url}/slack", webhook_url=f"{url}/hook")
    third = send_spike_alerts(sqlite_engine, fixed, base_url="http://127.0.0.1:8501")
    assert third == [{"event_id": event_id, "slack": "sent"}]
    assert [r["path"] for r in received] == ["/hook", "/slack"]
    assert _event(sqlite_engine, event_id)["alerted_at"] is not None
    assert send_spike_alerts(sqlite_engine, fixed, base_url="http://127.0.0.1:8501") == []
