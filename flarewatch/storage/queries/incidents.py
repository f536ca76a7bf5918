"""Incidents, their links to external tools, and support's outreach state per author."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from flarewatch.domain import (
    OUTREACH_STATUSES,
    SEVERITIES,
    IncidentEvent,
    IncidentRecord,
    NotFoundError,
    check_choice,
)
from flarewatch.storage.queries._sql import as_utc, upsert
from flarewatch.storage.queries.incident_authors import rebuild_incident_authors
from flarewatch.storage.queries.search import index_incident
from flarewatch.storage.schema import (
    Author,
    Incident,
    IncidentLink,
    Outreach,
    utcnow,
)


def open_incident(
    session: Session,
    title: str,
    *,
    brand: str | None = None,
    brand_terms: Sequence[str] = (),
    severity: str = "SEV3",
    opened_at: datetime | None = None,
) -> Incident:
    """Open an incident and return it."""
    check_choice("severity", severity, SEVERITIES)
    incident = Incident(
        title=title,
        brand=brand,
        brand_terms=list(brand_terms),
        severity=severity,
        status="open",
        opened_at=opened_at or utcnow(),
    )
    session.add(incident)
    session.flush()
    index_incident(session, incident.id)
    rebuild_incident_authors(session, incident.id)
    return incident


def get_incident(session: Session, incident_id: int) -> Incident:
    """Return an incident or raise NotFoundError naming the id."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFoundError(f"no incident with id {incident_id}")
    return incident


def close_incident(
    session: Session, incident_id: int, resolved_at: datetime | None = None
) -> Incident:
    """Mark an incident resolved."""
    incident = get_incident(session, incident_id)
    incident.status = "resolved"
    _set_resolved_at(session, incident, resolved_at or utcnow())
    return incident


def _set_resolved_at(session: Session, incident: Incident, at: datetime) -> None:
    """Resolve at `at`: the window now ends a day later, so its author rows are recounted."""
    if incident.resolved_at is not None and as_utc(incident.resolved_at) == as_utc(at):
        return
    incident.resolved_at = at
    session.flush()
    rebuild_incident_authors(session, incident.id)


def finish_incident(session: Session, incident_id: int, at: datetime | None = None) -> Incident:
    """Mark an incident closed (customers answered); one still open is resolved at that time."""
    incident = get_incident(session, incident_id)
    at = at or utcnow()
    if incident.resolved_at is None:
        _set_resolved_at(session, incident, at)
    incident.status = "closed"
    incident.closed_at = at
    return incident


def dark_alerted_since(session: Session, incident_id: int) -> datetime | None:
    """Start of the incident's silence stretch already alerted, if any."""
    return get_incident(session, incident_id).dark_alerted_since


def set_dark_alerted(session: Session, incident_id: int, since: datetime) -> None:
    """Remember that the silence stretch starting at `since` has been alerted."""
    get_incident(session, incident_id).dark_alerted_since = since


def incident_link_of(session: Session, incident_id: int, source: str) -> str | None:
    """The outside tool's id of our incident (e.g. the Statuspage incident), newest link first."""
    stmt = (
        select(IncidentLink.external_id)
        .where(IncidentLink.incident_id == incident_id, IncidentLink.source == source)
        .order_by(IncidentLink.updated_at.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def list_incidents(session: Session, status: str | None = None) -> list[Incident]:
    """List incidents, newest first, optionally only those with `status`."""
    stmt = select(Incident).order_by(Incident.opened_at.desc())
    if status:
        stmt = stmt.where(Incident.status == status)
    return list(session.scalars(stmt))


def outreach_states(session: Session, incident_id: int) -> dict[int, dict[str, Any]]:
    """Return support's status, assignee and note per author id for one incident."""
    stmt = select(Outreach).where(Outreach.incident_id == incident_id)
    return {
        o.author_id: {
            "status": o.status,
            "assignee": o.assignee,
            "note": o.note,
            "updated_at": o.updated_at,
        }
        for o in session.scalars(stmt)
    }


def set_outreach(
    session: Session,
    incident_id: int,
    author_id: int,
    *,
    status: str,
    assignee: str | None = None,
    note: str | None = None,
) -> None:
    """Record support's status, assignee and note for one author in one incident."""
    check_choice("outreach status", status, OUTREACH_STATUSES)
    get_incident(session, incident_id)
    if session.get(Author, author_id) is None:
        raise NotFoundError(f"no author with id {author_id}")
    row = {
        "incident_id": incident_id,
        "author_id": author_id,
        "status": status,
        "assignee": assignee,
        "note": note,
        "updated_at": utcnow(),
    }
    upsert(
        session,
        Outreach.__table__,
        [row],
        ("incident_id", "author_id"),
        ("status", "assignee", "note", "updated_at"),
    )


def open_incident_at(session: Session, brand: str | None, at: datetime) -> Incident | None:
    """Return the incident open for `brand` (or for every brand) at time `at`, if any."""
    stmt = (
        select(Incident)
        .where(Incident.opened_at <= at)
        .where((Incident.resolved_at.is_(None)) | (Incident.resolved_at >= at))
        .where((Incident.brand == brand) | (Incident.brand.is_(None)))
        .order_by(Incident.opened_at.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def linked_incident(session: Session, source: str, external_id: str) -> Incident | None:
    """Return the incident linked to an outside tool's incident id, if any."""

    link = session.get(IncidentLink, (source, external_id))
    return session.get(Incident, link.incident_id) if link else None


def link_incident(session: Session, source: str, external_id: str, incident_id: int) -> None:
    """Remember that an outside tool's incident id is our `incident_id`."""

    upsert(
        session,
        IncidentLink.__table__,
        [
            {
                "source": source,
                "external_id": external_id,
                "incident_id": incident_id,
                "updated_at": utcnow(),
            }
        ],
        ("source", "external_id"),
        ("incident_id", "updated_at"),
    )


def update_incident(
    session: Session, incident_id: int, *, title: str | None = None, severity: str | None = None
) -> Incident:
    """Change an incident's title or severity."""
    incident = get_incident(session, incident_id)
    if severity is not None:
        check_choice("severity", severity, SEVERITIES)
        incident.severity = severity
    if title is not None:
        incident.title = title
        session.flush()
        index_incident(session, incident_id)
    return incident


def apply_incident_event(
    session: Session, event: IncidentEvent, brand: str | None = None
) -> Incident:
    """Open, resolve or update the incident `event` names; replaying an event changes nothing."""
    incident = linked_incident(session, event.source, event.external_id)
    if incident is None:
        incident = open_incident(
            session, event.title, brand=brand, severity=event.severity or "SEV3", opened_at=event.at
        )
        link_incident(session, event.source, event.external_id, incident.id)
    elif event.severity and event.action != "resolve":
        update_incident(session, incident.id, severity=event.severity)
    if event.action == "resolve" and incident.status == "open":
        close_incident(session, incident.id, event.at)
    # Every Statuspage event is a public update: the earliest one is when customers were told.
    if event.source == "statuspage" and (
        incident.first_update_at is None or event.at < incident.first_update_at
    ):
        incident.first_update_at = event.at
    return incident


def incident_record(incident: Incident) -> IncidentRecord:
    """The domain view of an incident row."""
    return IncidentRecord(
        id=incident.id,
        title=incident.title,
        brand=incident.brand,
        brand_terms=list(incident.brand_terms) if incident.brand_terms else None,
        severity=incident.severity,
        status=incident.status,
        opened_at=incident.opened_at,
        resolved_at=incident.resolved_at,
        kind=incident.kind or "service",
        commander=incident.commander,
        comms_lead=incident.comms_lead,
        archived_at=incident.archived_at,
    )


def find_incident(session: Session, incident_id: int) -> IncidentRecord:
    """One incident as a record, or NotFoundError naming the id."""
    return incident_record(get_incident(session, incident_id))


def incident_records(session: Session, status: str | None = None) -> list[IncidentRecord]:
    """Every incident (or those with `status`) as records, newest first."""
    return [incident_record(i) for i in list_incidents(session, status)]
