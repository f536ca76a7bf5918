"""`flarewatch collect SOURCE`, `collect health` and `run` on recorded HTTP."""

from __future__ import annotations

import json

from click.testing import CliRunner

from flarewatch.cli import cli
from tests.collectors.recording import recording

WATCH = """
[[brands]]
name = "acme"
terms = ["acmecloud"]

[sources.hackernews]
interval = 60

[sources.x]
enabled = false
"""


def _invoke(tmp_path, *args):
    watch = tmp_path / "watch.toml"
    watch.write_text(WATCH, encoding="utf-8")
    env = {
        "FLAREWATCH_WATCH_FILE": str(watch),
        "FLAREWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'fw.db'}",
        "X_BEARER_TOKEN": "",
    }
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_cli_collect_hackernews__stores_and_reports_health(tmp_path):
    with recording("hackernews_cli"):
        result = _invoke(tmp_path, "collect", "hackernews")
    assert result.exit_code == 0, result.output
    assert "hackernews: 3 new, 3 fetched, 1 pages" in result.output
    health = json.loads(_invoke(tmp_path, "collect", "health").output)
    assert health[0]["source"] == "hackernews" and health[0]["posts_collected"] == 3


def test_cli_run__one_cycle_without_scoring(tmp_path):
    with recording("hackernews_cli"):
        result = _invoke(tmp_path, "run", "--no-score", "--cycles", "1")
    assert result.exit_code == 0, result.output
    assert "hackernews: 3 new" in result.output


def test_cli_collect__disabled_source__clear_message(tmp_path):
    result = _invoke(tmp_path, "collect", "x")
    assert result.exit_code == 1
    assert "source 'x' is not enabled" in result.output
