"""Stored spike events: early warnings, spikes during incidents, alert marks and themes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from flarewatch.domain import (
    SPIKE_STATUSES,
    NotFoundError,
    check_choice,
)
from flarewatch.storage.queries.incidents import get_incident, open_incident_at
from flarewatch.storage.schema import (
    SpikeAlertDelivery,
    SpikeEvent,
    utcnow,
)


def spike_events(
    session: Session,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    early_only: bool = False,
    status: str | None = None,
    unalerted: bool = False,
) -> list[dict[str, Any]]:
    """Return stored spike events, newest first: early warnings only, one status, or not yet alerted."""
    stmt = select(SpikeEvent).order_by(SpikeEvent.started_at.desc())
    if brand is not None:
        stmt = stmt.where(SpikeEvent.brand == brand)
    if start is not None:
        stmt = stmt.where(SpikeEvent.ended_at >= start)
    if end is not None:
        stmt = stmt.where(SpikeEvent.started_at < end)
    if early_only:
        stmt = stmt.where(SpikeEvent.early_warning.is_(True))
    if status is not None:
        stmt = stmt.where(SpikeEvent.status == status)
    if unalerted:
        stmt = stmt.where(SpikeEvent.alerted_at.is_(None))
    return [_event_row(e) for e in session.scalars(stmt)]


def spike_event(session: Session, event_id: int) -> dict[str, Any]:
    """One stored spike event, or NotFoundError naming the id."""
    event = session.get(SpikeEvent, event_id)
    if event is None:
        raise NotFoundError(f"no spike event with id {event_id}")
    return _event_row(event)


SPIKE_EVENT_FIELDS = (
    "id",
    "brand",
    "kind",
    "started_at",
    "peak_at",
    "detected_at",
    "ended_at",
    "observed",
    "baseline",
    "ratio",
    "severity",
    "early_warning",
    "incident_id",
    "status",
    "themes",
    "alerted_at",
)


def _event_row(event: Any) -> dict[str, Any]:
    return {key: getattr(event, key) for key in SPIKE_EVENT_FIELDS}


def early_warnings(session: Session, brand: str | None = None) -> list[dict[str, Any]]:
    """Return open "possible incident" warnings: spikes seen while no incident was open."""
    return spike_events(session, brand=brand, early_only=True, status="open")


def mark_spike_alerted(session: Session, event_id: int, at: datetime | None = None) -> bool:
    """Record that a spike's alert went out; False when it had already been sent (cooldown)."""

    event = session.get(SpikeEvent, event_id)
    if event is None:
        raise NotFoundError(f"no spike event with id {event_id}")
    if event.alerted_at is not None:
        return False
    event.alerted_at = at or utcnow()
    return True


def alert_deliveries(session: Session, event_id: int) -> set[str]:
    """The destinations that already received spike `event_id`'s alert."""
    stmt = select(SpikeAlertDelivery.destination).where(SpikeAlertDelivery.event_id == event_id)
    return set(session.scalars(stmt))


def record_alert_delivery(
    session: Session, event_id: int, destination: str, at: datetime | None = None
) -> None:
    """Note that `destination` received spike `event_id`'s alert (once)."""
    if session.get(SpikeAlertDelivery, (event_id, destination)) is None:
        session.add(
            SpikeAlertDelivery(
                event_id=event_id, destination=destination, delivered_at=at or utcnow()
            )
        )
        session.flush()


def set_spike_status(
    session: Session, event_id: int, status: str, incident_id: int | None = None
) -> None:
    """Dismiss an early warning or promote it to (attach it to) an incident."""

    check_choice("spike status", status, SPIKE_STATUSES)
    event = session.get(SpikeEvent, event_id)
    if event is None:
        raise NotFoundError(f"no spike event with id {event_id}")
    event.status, event.updated_at = status, utcnow()
    if incident_id is not None:
        event.incident_id = get_incident(session, incident_id).id


def set_spike_themes(session: Session, event_id: int, themes: list[dict[str, Any]]) -> None:
    """Store the complaint themes found in a spike's negative posts."""

    event = session.get(SpikeEvent, event_id)
    if event is None:
        raise NotFoundError(f"no spike event with id {event_id}")
    event.themes, event.updated_at = themes, utcnow()


def open_alert_event(session: Session, brand: str | None, fields: dict[str, Any]) -> int:
    """Store a newly opened alert as a spike event; an early warning when no incident is open."""
    incident = open_incident_at(session, brand, fields["detected_at"])
    event = SpikeEvent(
        brand=brand,
        **fields,
        early_warning=incident is None,
        incident_id=incident.id if incident else None,
        status="open",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(event)
    session.flush()
    return event.id
