"""The demo path: real tweets, real model, a live-looking incident with a spike and an outreach list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from flarewatch import api
from flarewatch.cli import cli
from flarewatch.pipeline.demo import DEMO_BRAND, DEMO_BUCKET_MINUTES
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope


def test_demo__builds_scored_live_incident_with_spike_and_outreach(demo_db_url):
    engine = make_engine(demo_db_url)
    with session_scope(engine) as session:
        assert queries.count_posts(session) > 5000
        assert queries.count_unscored(session, queries.latest_model_version(session) or "") == 0
        (incident,) = queries.list_incidents(session)
        _, last = queries.time_range(session)
    assert incident.brand == DEMO_BRAND and incident.status == "open"
    assert last is not None and datetime.now(UTC) - last < timedelta(hours=2)
    start, end = api.incident_window(engine, incident)
    found = api.window_spikes(
        engine, brand=DEMO_BRAND, start=start, end=end, bucket_minutes=DEMO_BUCKET_MINUTES
    )
    assert found and any(s.end >= incident.opened_at - timedelta(hours=3) for s in found)
    table = api.outreach(engine, incident.id)
    assert len(table) > 50 and table["priority"].is_monotonic_decreasing


def test_demo__second_run_adds_nothing(demo_db_url):
    engine = make_engine(demo_db_url)
    with session_scope(engine) as session:
        before = queries.count_posts(session), len(queries.list_incidents(session))
    result = CliRunner().invoke(cli, ["--database-url", demo_db_url, "demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "0 newly scored" in result.output
    with session_scope(engine) as session:
        assert (queries.count_posts(session), len(queries.list_incidents(session))) == before


def test_outreach_export__writes_ranked_csv(demo_db_url, tmp_path):
    out = tmp_path / "unhappy.csv"
    with session_scope(make_engine(demo_db_url)) as session:
        incident_id = queries.list_incidents(session)[0].id
    result = CliRunner().invoke(
        cli,
        [
            "--database-url",
            demo_db_url,
            "outreach",
            "export",
            "--incident",
            str(incident_id),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith('"priority","author_id","platform","handle"') and len(lines) > 50
