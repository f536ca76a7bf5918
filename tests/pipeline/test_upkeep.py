"""A long-running process keeps the planner's statistics fresh on its own."""

from __future__ import annotations

from sqlalchemy import text

from flarewatch import api
from flarewatch.pipeline import upkeep
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import make_post


def _stat_rows(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("select count(*) from sqlite_stat1")).scalar_one()


def test_keep_statistics_fresh__refreshes_when_due_and_not_before(sqlite_engine, monkeypatch):
    monkeypatch.setattr(upkeep, "_last_refresh", {})
    with session_scope(sqlite_engine) as session:
        queries.save_posts(session, [make_post(i, "site is down") for i in range(50)])
    assert api.keep_statistics_fresh(sqlite_engine) is True
    assert _stat_rows(sqlite_engine) > 0
    assert api.keep_statistics_fresh(sqlite_engine) is False  # refreshed moments ago
    assert api.keep_statistics_fresh(sqlite_engine, every_s=0) is True


def test_import_posts__a_large_import_refreshes_statistics(sqlite_engine, monkeypatch):
    refreshed = []
    monkeypatch.setattr("flarewatch.pipeline.ingest.LARGE_IMPORT", 10)
    monkeypatch.setattr(
        "flarewatch.pipeline.ingest.refresh_planner_statistics", lambda e: refreshed.append(e)
    )
    from flarewatch.pipeline.ingest import import_posts

    import_posts(sqlite_engine, [make_post(i, "fine") for i in range(5)])
    assert refreshed == []
    import_posts(sqlite_engine, [make_post(100 + i, "fine") for i in range(20)])
    assert refreshed == [sqlite_engine]
