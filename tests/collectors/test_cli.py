"""`flarewatch collect SOURCE`, `collect health` and `run` on recorded HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
from click.testing import CliRunner

from flarewatch import api
from flarewatch.cli import cli
from flarewatch.cli.base import Context
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade
from tests.collectors.recording import recording
from tests.conftest import T0, make_post
from tests.helpers.keyword_scorer import KeywordScorer

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


class _EmbeddingKeywordScorer(KeywordScorer):
    """The keyword scorer with flat embeddings, so a new spike's themes can be computed."""

    def embed(self, texts, batch_size=32):
        return np.ones((len(texts), 2))


def _seed_calm_days_then_burst(tmp_path) -> None:
    """Three calm days of acme posts, then an hour of "down" posts by many people ending now."""
    now = datetime.now(UTC)
    offset = int((now - T0).total_seconds() // 60)
    posts = [make_post(i, "fine today", minutes=offset - 3 * 24 * 60 + i * 30) for i in range(144)]
    posts += [
        make_post(1000 + i, "site down", author=f"u{i}", minutes=offset - 60 + i // 3)
        for i in range(180)
    ]
    engine = make_engine(f"sqlite:///{tmp_path / 'fw.db'}")
    upgrade(engine)
    with session_scope(engine) as session:
        queries.save_posts(session, posts)
    engine.dispose()


def test_cli_run__scores_then_scans_for_spikes(tmp_path, monkeypatch):
    _seed_calm_days_then_burst(tmp_path)
    monkeypatch.setattr(Context, "scorer", lambda self, **_: _EmbeddingKeywordScorer())
    with recording("hackernews_cli"):
        result = _invoke(tmp_path, "run", "--cycles", "1")
    assert result.exit_code == 0, result.output
    assert "hackernews: 3 new" in result.output
    assert "acme: possible incident since" in result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'fw.db'}")
    assert len(api.early_warnings(engine, "acme")) == 1
    engine.dispose()


def test_collect_health__says_silent_when_a_feed_stops_while_its_source_runs(tmp_path):
    now = datetime.now(UTC)
    offset = int((now - T0).total_seconds() // 60)
    # A post every 10 minutes until 3 hours ago; x has run fine since, finding nothing.
    posts = [make_post(i, "status", minutes=offset - 180 - 10 * i) for i in range(60)]
    engine = make_engine(f"sqlite:///{tmp_path / 'fw.db'}")
    upgrade(engine)
    with session_scope(engine) as session:
        queries.save_posts(session, posts)
        queries.record_source_success(session, "x", 0, at=now)
    engine.dispose()
    [row] = json.loads(_invoke(tmp_path, "collect", "health").output)
    assert row["source"] == "x" and row["state"] == "silent (acme)"
