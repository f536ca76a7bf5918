"""Opening the database and keeping it in shape: migrations, planner statistics, retention."""

from __future__ import annotations

from sqlalchemy import Engine

from flarewatch.config import load_settings
from flarewatch.pipeline.demo import DemoSummary, build_demo, demo_posts
from flarewatch.pipeline.retention import purge
from flarewatch.pipeline.upkeep import keep_statistics_fresh, refresh_planner_statistics
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade

__all__ = [
    "DemoSummary",
    "Engine",
    "brands",
    "build_demo",
    "connect",
    "demo_posts",
    "keep_statistics_fresh",
    "purge",
    "refresh_planner_statistics",
]


def connect(database_url: str | None = None) -> Engine:
    """Open (and migrate) the configured database, or `database_url` if given."""
    engine = make_engine(load_settings(database_url=database_url).database_url)
    upgrade(engine)
    return engine


def brands(engine: Engine) -> list[str]:
    """Brands posts were collected for."""
    with session_scope(engine) as session:
        return queries.brands(session)
