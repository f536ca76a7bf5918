"""Incident memory: post-mortems, roles, archiving, search, "seen this before?", lead time, feedback."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine

from flarewatch.analysis.memory import alert_precision as precision_table
from flarewatch.analysis.memory import build_timeline, lead_minutes
from flarewatch.domain import IncidentRecord, PostMortem, TimelineEntry
from flarewatch.pipeline.frames import LOOKBACK, get_incident
from flarewatch.render.postmortem import postmortem_markdown
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

SEARCH_COLUMNS = list(queries.SEARCH_FIELDS)
LEAD_COLUMNS = [
    "incident_id",
    "title",
    "brand",
    "first_signal",
    "first_warning",
    "opened_at",
    "first_update",
    "lead_minutes",
]


def postmortem(engine: Engine, incident_id: int) -> PostMortem | None:
    """An incident's post-mortem (None when nobody has written one)."""
    with session_scope(engine) as session:
        return queries.get_postmortem(session, incident_id)


def save_postmortem(engine: Engine, incident_id: int, **fields: str) -> PostMortem:
    """Write summary, impact, root_cause and/or fix of an incident's post-mortem."""
    with session_scope(engine) as session:
        return queries.save_postmortem(session, incident_id, fields)


def add_timeline_entry(engine: Engine, incident_id: int, at: datetime, text: str) -> int:
    """Add a person's entry to an incident's timeline; return its id."""
    with session_scope(engine) as session:
        return queries.add_timeline_note(session, incident_id, at, text)


def remove_timeline_entry(engine: Engine, entry_id: int) -> None:
    """Remove a person's timeline entry."""
    with session_scope(engine) as session:
        queries.delete_timeline_note(session, entry_id)


def add_follow_up(
    engine: Engine,
    incident_id: int,
    action: str,
    *,
    owner: str | None = None,
    due: datetime | None = None,
) -> int:
    """Add a follow-up action to an incident's post-mortem; return its id."""
    with session_scope(engine) as session:
        return queries.add_follow_up(session, incident_id, action, owner=owner, due=due)


def set_follow_up_done(engine: Engine, follow_up_id: int, done: bool = True) -> None:
    """Mark a follow-up action done (or open again)."""
    with session_scope(engine) as session:
        queries.set_follow_up_done(session, follow_up_id, done)


def set_roles(
    engine: Engine,
    incident_id: int,
    *,
    kind: str | None = None,
    commander: str | None = None,
    comms_lead: str | None = None,
) -> IncidentRecord:
    """Set an incident's kind (service/security), incident commander and comms lead."""
    with session_scope(engine) as session:
        row = queries.set_incident_roles(
            session, incident_id, kind=kind, commander=commander, comms_lead=comms_lead
        )
        return queries.incident_record(row)


def archive_incident(engine: Engine, incident_id: int) -> IncidentRecord:
    """Archive a resolved incident (kept, with its post-mortem, for the repository)."""
    with session_scope(engine) as session:
        return queries.incident_record(queries.archive_incident(session, incident_id))


def delete_incident(engine: Engine, incident_id: int) -> None:
    """Delete an incident; refused (ValueError) while it has a post-mortem."""
    with session_scope(engine) as session:
        queries.delete_incident(session, incident_id)


def search_incidents(
    engine: Engine, text: str, *, brand: str | None = None, limit: int = 20
) -> pd.DataFrame:
    """Past incidents whose title, post-mortem or complaint themes match `text`, best first."""
    with session_scope(engine) as session:
        rows = queries.search_incidents(session, text, brand=brand, limit=limit)
    return pd.DataFrame(rows, columns=SEARCH_COLUMNS)


def spike_matches(engine: Engine, event_id: int) -> list[dict[str, object]]:
    """The past incidents stored as most like a spike, best first."""
    with session_scope(engine) as session:
        return queries.spike_matches(session, event_id)


def _signals(engine: Engine, incident: IncidentRecord) -> dict[str, datetime | None]:
    end = incident.resolved_at or incident.opened_at + LOOKBACK
    with session_scope(engine) as session:
        found = queries.first_signals(session, incident.brand, incident.opened_at - LOOKBACK, end)
        update = queries.get_incident(session, incident.id).first_update_at
    return {**found, "first_update": update}


def incident_timeline(engine: Engine, incident_id: int) -> list[TimelineEntry]:
    """An incident's timeline: Flarewatch's own events and people's entries, oldest first."""
    incident = get_incident(engine, incident_id)
    with session_scope(engine) as session:
        manual = queries.timeline_notes(session, incident_id)
    return build_timeline(incident, _signals(engine, incident), manual)


def lead_time(engine: Engine, incident_id: int) -> dict[str, object]:
    """Who noticed first: first social signal, first warning, declared, first public update."""
    incident = get_incident(engine, incident_id)
    signals = _signals(engine, incident)
    return {
        "incident_id": incident.id,
        "title": incident.title,
        "brand": incident.brand,
        **signals,
        "opened_at": incident.opened_at,
        "lead_minutes": lead_minutes(signals["first_signal"], incident.opened_at),
    }


def lead_times(engine: Engine) -> pd.DataFrame:
    """Lead time of every incident: how long customers talked before it was declared."""
    with session_scope(engine) as session:
        ids = [i.id for i in queries.incident_records(session)]
    return pd.DataFrame([lead_time(engine, i) for i in ids], columns=LEAD_COLUMNS)


def set_alert_feedback(engine: Engine, event_id: int, verdict: str | None) -> None:
    """Mark a spike alert useful or noise (None clears the mark)."""
    with session_scope(engine) as session:
        queries.set_alert_feedback(session, event_id, verdict)


def alert_precision(engine: Engine) -> pd.DataFrame:
    """Alerts marked useful and noise, and precision, per brand and month."""
    with session_scope(engine) as session:
        rows = queries.alert_feedback(session)
    return precision_table(pd.DataFrame(rows, columns=["brand", "started_at", "feedback"]))


def export_postmortem(engine: Engine, incident_id: int) -> str:
    """The post-mortem as Markdown for a wiki (every written field escaped)."""
    incident = get_incident(engine, incident_id)
    found = postmortem(engine, incident_id) or PostMortem(incident_id=incident_id)
    lead = lead_minutes(_signals(engine, incident)["first_signal"], incident.opened_at)
    return postmortem_markdown(
        asdict(incident), found, incident_timeline(engine, incident_id), lead
    )
