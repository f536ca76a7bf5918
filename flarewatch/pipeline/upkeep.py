"""Database upkeep a long-running process does on its own: fresh planner statistics."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine

from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

# Collectors add posts all day; statistics from start-up would mislead SQLite's planner by evening.
STATISTICS_EVERY_S = 15 * 60
_last_refresh: dict[str, float] = {}
_lock = threading.Lock()


def refresh_planner_statistics(engine: Engine) -> None:
    """Let the planner see current index selectivity now (sampled ANALYZE on SQLite; cheap)."""
    with session_scope(engine) as session:
        queries.refresh_planner_statistics(session)
    _last_refresh[str(engine.url)] = time.monotonic()


def keep_statistics_fresh(engine: Engine, every_s: float = STATISTICS_EVERY_S) -> bool:
    """Refresh the planner statistics when the last refresh is older than `every_s`; True if it ran.

    The dashboard calls this on every page run and the monitor loop after every save, so a
    server that runs for days keeps the plans its benchmarks were measured with.
    """
    key = str(engine.url)
    with _lock:
        last = _last_refresh.get(key)
        if last is not None and time.monotonic() - last < every_s:
            return False
        _last_refresh[key] = time.monotonic()
    refresh_planner_statistics(engine)
    return True
