"""Incidents: listing, opening, closing and re-grading them, and the events that drive them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine

from flarewatch.domain import IncidentEvent, IncidentRecord
from flarewatch.pipeline.frames import INCIDENT_COLUMNS
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope


def incidents(engine: Engine) -> pd.DataFrame:
    """All incidents, newest first, as a DataFrame."""
    with session_scope(engine) as session:
        rows = [asdict(i) for i in queries.incident_records(session)]
    return pd.DataFrame(rows, columns=INCIDENT_COLUMNS)


def open_incident(
    engine: Engine,
    title: str,
    *,
    brand: str | None = None,
    terms: Sequence[str] = (),
    severity: str = "SEV3",
    opened_at: datetime | None = None,
) -> IncidentRecord:
    """Open an incident (now, unless `opened_at`) and return it; an empty title is refused."""
    if not title.strip():
        raise ValueError("incident title is empty: give the incident a title")
    with session_scope(engine) as session:
        row = queries.open_incident(
            session, title, brand=brand, brand_terms=terms, severity=severity, opened_at=opened_at
        )
        return queries.incident_record(row)


def close_incident(
    engine: Engine, incident_id: int, resolved_at: datetime | None = None
) -> IncidentRecord:
    """Mark an incident resolved (now, unless `resolved_at`) and return it.

    Raises:
        ValueError: `resolved_at` is before the incident opened (nothing is changed).
    """
    with session_scope(engine) as session:
        opened = queries.incident_record(queries.get_incident(session, incident_id)).opened_at
        if resolved_at is not None and resolved_at < opened:
            raise ValueError(
                f"resolved at {resolved_at:%Y-%m-%d %H:%M} UTC is before incident {incident_id} "
                f"opened ({opened:%Y-%m-%d %H:%M} UTC)"
            )
        return queries.incident_record(queries.close_incident(session, incident_id, resolved_at))


def set_severity(engine: Engine, incident_id: int, severity: str) -> None:
    """Re-grade an incident (SEV1-SEV4)."""
    with session_scope(engine) as session:
        queries.update_incident(session, incident_id, severity=severity)


def promote_warning(
    engine: Engine, event_id: int, title: str, *, brand: str | None, severity: str = "SEV3"
) -> int:
    """Open an incident from an early warning and attach the warning to it, in one transaction."""
    with session_scope(engine) as session:
        incident = queries.open_incident(session, title, brand=brand, severity=severity)
        queries.set_spike_status(session, event_id, "promoted", incident.id)
        return incident.id


def apply_incident_event(engine: Engine, event: IncidentEvent, brand: str | None = None) -> int:
    """Open, resolve or update the incident a Statuspage/PagerDuty event names; return its id."""
    with session_scope(engine) as session:
        return queries.apply_incident_event(session, event, brand).id
