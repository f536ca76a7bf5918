"""`flarewatch outreach reply|follow-up|handoff|replies`: dry run first, --send on recorded X."""

from __future__ import annotations

from click.testing import CliRunner

from flarewatch.cli import cli
from tests.actions.reply_recording import recording
from tests.actions.test_repliers import X_ENV
from tests.api.test_replies import seed


def run(url, *args, env=None):
    return CliRunner().invoke(cli, ["--database-url", url, "outreach", *args], env=env or {})


def test_reply__dry_run_then_send_then_audit(sqlite_engine, monkeypatch):
    incident_id, ids = seed(sqlite_engine)
    url = str(sqlite_engine.url)
    base = [
        "reply",
        "--incident",
        str(incident_id),
        "--author",
        str(ids["ann"]),
        "--author",
        str(ids["bob"]),
    ]
    preview = run(
        url, *base, "--template", "@{handle} on it: {status_url}", "--status-url", "https://s.test"
    )
    assert preview.exit_code == 0, preview.output
    assert "@ann on it: https://s.test" in preview.output
    assert "dry run: nothing was sent" in preview.output
    for name, value in X_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FLAREWATCH_OUTREACH_PER_MINUTE", "600")
    monkeypatch.setenv("FLAREWATCH_REPLY_SPACING", "x=0")
    with recording("x_reply_two"):
        sent = CliRunner().invoke(
            cli, ["--database-url", url, "outreach", *base, "--send", "--sender", "sam", "--json"]
        )
    assert sent.exit_code == 0, sent.output
    assert sent.output.count('"state":"sent"') == 2
    trail = run(url, "replies", "--incident", str(incident_id))
    assert "https://x.com/i/web/status/9001" in trail.output
    listed = run(url, "list", "--incident", str(incident_id), "--status", "contacted")
    assert "ann" in listed.output and "bob" in listed.output


def test_reply__bad_template_and_open_incident_are_one_line(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    url = str(sqlite_engine.url)
    bad = run(
        url,
        "reply",
        "--incident",
        str(incident_id),
        "--author",
        str(ids["ann"]),
        "--template",
        "{oops}",
    )
    assert bad.exit_code == 1
    assert (
        bad.output.strip()
        .splitlines()[-1]
        .startswith("Error: reply template: unknown placeholder {oops}")
    )
    early = run(url, "follow-up", "--incident", str(incident_id))
    assert early.exit_code == 1 and "still open" in early.output


def test_handoff__preview_lists_tickets(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    url = str(sqlite_engine.url)
    out = run(
        url, "handoff", "--incident", str(incident_id), "--author", str(ids["ann"]), "--problem"
    )
    assert out.exit_code == 0, out.output
    assert "problem" in out.output and "dry run: no ticket was opened" in out.output
