"""Stored spike events and early warnings; the online detector's backtest and cold start."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from flarewatch.pipeline.detector import backtest, baseline_hours_left
from flarewatch.pipeline.frames import SPIKE_EVENT_COLUMNS, data_began
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

__all__ = [
    "backtest",
    "baseline_hours_left",
    "data_began",
    "early_warnings",
    "set_warning_status",
]


def early_warnings(engine: Engine, brand: str | None = None) -> pd.DataFrame:
    """Open "possible incident" warnings: spikes seen while no incident was open, newest first."""
    with session_scope(engine) as session:
        rows = queries.early_warnings(session, brand)
    return pd.DataFrame(rows, columns=SPIKE_EVENT_COLUMNS)


def set_warning_status(
    engine: Engine, event_id: int, status: str, incident_id: int | None = None
) -> None:
    """Dismiss an early warning (`dismissed`) or attach it to an incident (`promoted`)."""
    with session_scope(engine) as session:
        queries.set_spike_status(session, event_id, status, incident_id)
