"""Incident memory: fingerprints of past incidents, matches stored on spikes, alert feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flarewatch.domain import NotFoundError
from flarewatch.storage.queries.incidents import get_incident
from flarewatch.storage.queries.search import index_incident
from flarewatch.storage.schema import Incident, PostMortemRow, SpikeEvent

FEEDBACK = ("useful", "noise")


def set_fingerprint(
    session: Session, incident_id: int, vector: bytes, terms: list[str], model: str
) -> None:
    """Store an incident's fingerprint: mean embedding (float32 bytes), top terms, model."""
    incident = get_incident(session, incident_id)
    incident.fingerprint, incident.fingerprint_terms = vector, list(terms)
    incident.fingerprint_model = model
    session.flush()
    index_incident(session, incident_id)


def fingerprints(
    session: Session, brand: str | None, *, model: str, exclude: int | None = None
) -> list[tuple[int, bytes, list[str]]]:
    """(id, vector bytes, top terms) of the incidents of `brand` (all when None) by `model`."""
    stmt = select(Incident.id, Incident.fingerprint, Incident.fingerprint_terms).where(
        Incident.fingerprint.is_not(None), Incident.fingerprint_model == model
    )
    if brand is not None:
        stmt = stmt.where(Incident.brand == brand)
    if exclude is not None:
        stmt = stmt.where(Incident.id != exclude)
    return [(r[0], r[1] or b"", r[2] or []) for r in session.execute(stmt)]


def incident_lessons(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Title, opening, top terms, root cause and fix of the incidents `ids`."""
    stmt = (
        select(
            Incident.id,
            Incident.title,
            Incident.opened_at,
            Incident.fingerprint_terms,
            PostMortemRow.root_cause,
            PostMortemRow.fix,
        )
        .outerjoin(PostMortemRow, PostMortemRow.incident_id == Incident.id)
        .where(Incident.id.in_(ids))
    )
    return {
        r.id: {
            "incident_id": r.id,
            "title": r.title,
            "opened_at": r.opened_at.isoformat(),
            "terms": r.fingerprint_terms or [],
            "root_cause": r.root_cause or "",
            "fix": r.fix or "",
        }
        for r in session.execute(stmt)
    }


def unfingerprinted(session: Session, brand: str | None, model: str) -> list[int]:
    """Ids of resolved incidents of `brand` with no fingerprint from `model` yet."""
    stmt = select(Incident.id).where(
        Incident.status == "resolved",
        Incident.fingerprint.is_(None) | (Incident.fingerprint_model != model),
    )
    if brand is not None:
        stmt = stmt.where(Incident.brand == brand)
    return list(session.scalars(stmt))


def _event(session: Session, event_id: int) -> SpikeEvent:
    event = session.get(SpikeEvent, event_id)
    if event is None:
        raise NotFoundError(f"no spike event with id {event_id}")
    return event


def set_spike_matches(session: Session, event_id: int, matches: list[dict[str, Any]]) -> None:
    """Store the past incidents most like a spike, best first."""
    _event(session, event_id).matches = matches


def spike_matches(session: Session, event_id: int) -> list[dict[str, Any]]:
    """The past incidents stored as most like a spike (empty when none were found)."""
    return list(_event(session, event_id).matches or [])


def set_alert_feedback(session: Session, event_id: int, verdict: str | None) -> None:
    """Record whether a spike's alert was useful or noise (None clears it)."""
    if verdict is not None and verdict not in FEEDBACK:
        raise ValueError(f"alert feedback {verdict!r}: expected useful or noise")
    _event(session, event_id).feedback = verdict


def alert_feedback(session: Session) -> list[dict[str, Any]]:
    """Each judged spike's brand, start and verdict (for precision per brand and month)."""
    stmt = select(SpikeEvent.brand, SpikeEvent.started_at, SpikeEvent.feedback).where(
        SpikeEvent.feedback.is_not(None)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def first_signals(
    session: Session, brand: str | None, start: datetime, end: datetime
) -> dict[str, datetime | None]:
    """The first spike start and first early-warning detection of `brand` in [start, end)."""
    stmt = select(SpikeEvent.started_at, SpikeEvent.detected_at, SpikeEvent.early_warning).where(
        SpikeEvent.started_at >= start, SpikeEvent.started_at < end
    )
    stmt = stmt.where(SpikeEvent.brand.is_(None) if brand is None else SpikeEvent.brand == brand)
    rows = session.execute(stmt).all()
    warnings = [r.detected_at for r in rows if r.early_warning]
    return {
        "first_signal": min((r.started_at for r in rows), default=None),
        "first_warning": min(warnings, default=None),
    }


def set_first_update(session: Session, incident_id: int, at: datetime) -> None:
    """Record the first public status update of an incident (the earliest one wins)."""
    incident = get_incident(session, incident_id)
    if incident.first_update_at is None or at < incident.first_update_at:
        incident.first_update_at = at
