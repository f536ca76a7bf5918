"""End to end over a database: early warning, one alert per spike, themes, report, posture, outreach."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
from click.testing import CliRunner

from flarewatch import api
from flarewatch.alerts.channels import AlertSettings
from flarewatch.cli import cli
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import T0, make_post

START = T0 - timedelta(days=3)
WORDS = ("refund", "login")


class KeywordEmbedder:
    """Stands in for the model: one axis per complaint word."""

    def embed(self, texts, batch_size=32):
        return np.array([[w in t for w in WORDS] + [0.01] for t in texts], dtype=float)


def _seed(engine, spike_hours=3) -> None:
    """Three calm days of 4 negative posts an hour for acme, then a 15x burst from T0."""
    posts, i = [], 0
    for hour in range(3 * 24 + spike_hours):
        burst = hour >= 3 * 24
        for k in range(60 if burst else 4):
            text = "refund refused" if burst and k % 3 else "login broken"
            minutes = int((START - T0).total_seconds() // 60) + hour * 60 + k % 60
            posts.append(make_post(i, text, author=f"u{i % 40}", minutes=minutes))
            i += 1
    with session_scope(engine) as s:
        queries.save_posts(s, posts)
        scores = [
            {
                "post_id": pid,
                "label": "negative",
                "p_negative": 0.9,
                "p_neutral": 0.05,
                "p_positive": 0.05,
            }
            for pid, _ in queries.unscored_posts(s, "m1", limit=100_000)
        ]
        queries.save_scores(s, "m1", scores)


def _receiver():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def test_scan_spikes__early_warning_stored_once_and_alerted_once(sqlite_engine):
    _seed(sqlite_engine)
    # Live, the scan runs at every bucket end: the burst is confirmed in its second bucket.
    now = T0 + timedelta(minutes=30)
    new = api.scan_spikes(sqlite_engine, brand="acme", now=now, embedder=KeywordEmbedder())
    assert len(new) == 1 and bool(new.loc[0, "early_warning"])
    assert new.loc[0, "started_at"] == T0
    assert api.scan_spikes(sqlite_engine, brand="acme", now=now + timedelta(minutes=15)).empty
    warnings = api.early_warnings(sqlite_engine, "acme")
    assert len(warnings) == 1 and warnings.loc[0, "themes"][0]["label"].startswith("refund")
    server, received = _receiver()
    try:
        settings = AlertSettings(webhook_url=f"http://127.0.0.1:{server.server_port}/")
        assert api.send_spike_alerts(sqlite_engine, settings)[0]["webhook"] == "sent"
        assert api.send_spike_alerts(sqlite_engine, settings) == []
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 1 and received[0]["alert"]["early_warning"] is True
    api.set_warning_status(sqlite_engine, int(warnings.loc[0, "id"]), "dismissed")
    assert api.early_warnings(sqlite_engine).empty


def test_scan_spikes__during_an_open_incident_is_no_early_warning(sqlite_engine):
    _seed(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        queries.open_incident(s, "Refunds", brand="acme", opened_at=T0 - timedelta(hours=1))
    new = api.scan_spikes(sqlite_engine, brand="acme", now=T0 + timedelta(minutes=30))
    assert len(new) == 1 and not new.loc[0, "early_warning"] and new.loc[0, "incident_id"] == 1
    assert api.early_warnings(sqlite_engine).empty


def _incident(engine, resolved_after=timedelta(hours=3)) -> int:
    with session_scope(engine) as s:
        incident = queries.open_incident(
            s, "Refund outage", brand="acme", opened_at=T0, brand_terms=["acme"]
        )
        queries.close_incident(s, incident.id, T0 + resolved_after)
        return incident.id


def test_report__markdown_and_html_with_chart_themes_outreach_and_posture(sqlite_engine):
    _seed(sqlite_engine)
    incident_id = _incident(sqlite_engine)
    author = int(api.outreach(sqlite_engine, incident_id).loc[0, "author_id"])
    api.set_outreach(sqlite_engine, incident_id, author, status="contacted", assignee="sam")
    md = api.report(sqlite_engine, incident_id, embedder=KeywordEmbedder())
    assert md.startswith("# Post-incident report: Refund outage")
    assert "## Themes" in md and "**refund" in md and "| before |" in md
    assert "1 contacted" in md and "39 still unanswered" in md and "Still waiting" in md
    assert "**Marketing:** clear" in md  # a day of silence after resolution counts as calm
    page = api.report(sqlite_engine, incident_id, fmt="html", embedder=KeywordEmbedder())
    assert page.startswith("<!doctype html>") and "<svg" in page and "<script" not in page


def test_marketing_posture__clears_only_after_calm_period(sqlite_engine):
    _seed(sqlite_engine, spike_hours=2)
    incident_id = _incident(sqlite_engine, resolved_after=timedelta(hours=2))
    with session_scope(
        sqlite_engine
    ) as s:  # calm again after resolution: 4 negatives of 16 an hour
        calm = [
            make_post(900_000 + i, "ok" if i % 4 else "meh", author="calm", minutes=120 + i * 15)
            for i in range(4 * 14)
        ]
        queries.save_posts(s, calm)
        queries.save_scores(
            s,
            "m1",
            [
                {
                    "post_id": pid,
                    "label": "negative" if text == "meh" else "neutral",
                    "p_negative": 0.5,
                    "p_neutral": 0.5,
                    "p_positive": 0.0,
                }
                for pid, text in queries.unscored_posts(s, "m1", limit=1000)
            ],
        )
    early = api.marketing_posture(sqlite_engine, incident_id, now=T0 + timedelta(hours=8))
    late = api.marketing_posture(sqlite_engine, incident_id, now=T0 + timedelta(hours=16))
    assert early.hold and not late.hold
    assert api.marketing_posture(
        sqlite_engine, incident_id, now=T0 + timedelta(hours=16), hold_after=timedelta(hours=20)
    ).hold


def test_outreach_cli__set_then_list(sqlite_engine):
    _seed(sqlite_engine)
    incident_id = _incident(sqlite_engine)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    author = str(api.outreach(sqlite_engine, incident_id).loc[0, "author_id"])
    args = [
        "--database-url",
        url,
        "outreach",
        "set",
        "--incident",
        str(incident_id),
        "--author",
        author,
        "--status",
        "resolved",
        "--assignee",
        "=cmd()",
        "--note",
        "sorted",
    ]
    assert runner.invoke(cli, args).exit_code == 0
    listed = runner.invoke(
        cli,
        [
            "--database-url",
            url,
            "outreach",
            "list",
            "--incident",
            str(incident_id),
            "--status",
            "resolved",
            "--json",
        ],
    )
    row = json.loads(listed.output.splitlines()[0])
    assert (row["author_id"], row["status"], row["assignee"]) == (int(author), "resolved", "=cmd()")
    bad = runner.invoke(cli, [*args[:-6], "--status", "done"])
    assert bad.exit_code != 0
