"""`flarewatch update` and `incident resolve|close` end to end through the CLI."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from flarewatch import api
from flarewatch.cli import cli
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.actions.recording import FAKE_ENV, recording
from tests.conftest import make_post, score_down_as_negative

WATCH = """
[[brands]]
name = "acme"
terms = ["acme"]

[brands.own]
x = "acmecloud"
statuspage = "kctbh9vrtdwd"

[sources.x]
"""
LONG = " ".join(["Logins fail for some customers while we roll back the release."] * 6)


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Invoke the CLI on a fresh SQLite database, with a watch file naming our accounts."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    (tmp_path / "watch.toml").write_text(WATCH)
    url = f"sqlite:///{tmp_path / 'fw.db'}"
    env = {**FAKE_ENV, "FLAREWATCH_WATCH_FILE": str(tmp_path / "watch.toml")}

    def invoke(*args: str, input: str | None = None, **extra: str):
        result = CliRunner().invoke(
            cli, ["--database-url", url, *args], env={**env, **extra}, input=input
        )
        return result

    invoke("db", "upgrade")
    invoke("incident", "open", "Login errors", "--brand", "acme", "--severity", "SEV1")
    invoke.url = url
    return invoke


def test_update__preview_draft_dry_run_approve_send(run):
    shown = run("update", "preview", "--incident", "1", "--text", LONG)
    assert shown.exit_code == 0, shown.output
    assert "x (acmecloud): ok" in shown.output and "[278/280 weighted characters]" in shown.output
    assert (
        "[110/280 weighted characters]" in shown.output
        and "statuspage (kctbh9vrtdwd): ok" in shown.output
    )
    drafted = run("update", "draft", "--incident", "1", "--text", LONG, "--user", "ana")
    assert drafted.exit_code == 0, drafted.output
    assert "draft 1: x (2 post(s)), draft" in drafted.output
    dry = run("update", "post", "--incident", "1")
    assert "dry run: nothing was sent" in dry.output
    refused = run(
        "update", "post", "--incident", "1", "--send", "--yes", FLAREWATCH_REQUIRE_APPROVAL="1"
    )
    assert "needs another user's approval" in refused.output and refused.exit_code == 1
    assert run("update", "approve", "1", "--user", "ana").exit_code == 1
    assert run("update", "approve", "1", "--user", "ben").exit_code == 0
    assert run("update", "approve", "2", "--user", "ben").exit_code == 0
    with recording("publish_two_destinations"):
        sent = run(
            "update", "post", "--incident", "1", "--send", "--yes", FLAREWATCH_REQUIRE_APPROVAL="1"
        )
    assert sent.exit_code == 1  # Statuspage refused the key
    assert "1 x: https://x.com/acmecloud/status/1001" in sent.output
    assert "2 statuspage: failed: statuspage: unauthorized" in sent.output
    listed = run("update", "list", "--incident", "1")
    assert "ben" in listed.output and "sent" in listed.output


def test_update__send_asks_for_confirmation(run):
    run(
        "update",
        "draft",
        "--incident",
        "1",
        "--text",
        "We are on it.",
        "--to",
        "x",
        "--user",
        "ana",
    )
    answer = run("update", "post", "--incident", "1", "--send", input="n\n")
    assert "Send 1 item(s) now?" in answer.output
    assert "nothing was sent" in answer.output


def test_update__template_fields_and_unknown_destination(run):
    drafted = run(
        "update",
        "preview",
        "--incident",
        "1",
        "--to",
        "x",
        "--affected",
        "login",
        "--doing",
        "We are rolling back.",
        "--next-update",
        "14:30 UTC",
    )
    assert (
        "We are investigating login. We are rolling back. Next update by 14:30 UTC."
        in drafted.output
    )
    bad = run("update", "preview", "--incident", "1", "--text", "hi", "--to", "bluesky")
    assert bad.exit_code == 1 and "no own bluesky account for acme" in bad.output


def test_incident__resolve_then_close_asks_about_unanswered_authors(run):
    engine = api.connect(run.url)
    with session_scope(engine) as session:
        posts = [
            make_post(i, "acme is down!!", author=f"vip{i}", followers=900_000, minutes=5)
            for i in range(3)
        ]
        now = datetime.now(UTC)
        queries.save_posts(session, [dataclasses.replace(p, created_at=now) for p in posts])
        score_down_as_negative(session, "m")
    waiting = api.unanswered_authors(engine, 1)
    assert len(waiting) == 3
    assert run("incident", "resolve", "1").exit_code == 0
    kept = run("incident", "close", "1", input="n\n")
    assert "3 high-priority unhappy author(s) still unanswered" in kept.output
    assert kept.exit_code == 1 and api.get_incident(engine, 1).status == "resolved"
    api.set_outreach(engine, 1, int(waiting["author_id"][0]), status="contacted")
    closed = run("incident", "close", "1", "--yes")
    assert closed.exit_code == 0 and api.get_incident(engine, 1).status == "closed"
