"""Opening the database and keeping it in shape: migrations, planner statistics, retention."""

from __future__ import annotations

from sqlalchemy import Engine

from flarewatch.config import load_settings
from flarewatch.pipeline.demo import DemoSummary, build_demo, demo_posts
from flarewatch.pipeline.retention import purge
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade

__all__ = [
    "DemoSummary",
    "Engine",
    "brands",
    "build_demo",
    "connect",
    "demo_posts",
    "purge",
    "refresh_planner_statistics",
]


def connect(database_url: str | None = None) -> Engine:
    """Open (and migrate) the configured database, or `database_url` if given."""
    engine = make_engine(load_settings(database_url=database_url).database_url)
    upgrade(engine)
    return engine


def refresh_planner_statistics(engine: Engine) -> None:
    """Let the database planner see current index selectivity (cheap; after large imports)."""
    with session_scope(engine) as session:
        queries.refresh_planner_statistics(session)


def brands(engine: Engine) -> list[str]:
    """Brands posts were collected for."""
    with session_scope(engine) as session:
        return queries.brands(session)
