"""Post-mortems: the record itself, manual timeline entries, follow-up actions, roles, archiving."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flarewatch.domain import (
    INCIDENT_KINDS,
    MAX_ENTRY_CHARS,
    MAX_POSTMORTEM_CHARS,
    POSTMORTEM_FIELDS,
    FollowUp,
    NotFoundError,
    PostMortem,
    TimelineEntry,
    check_text,
)
from flarewatch.storage.queries.incidents import get_incident
from flarewatch.storage.queries.search import index_incident, unindex_incident
from flarewatch.storage.schema import (
    FollowUpRow,
    Incident,
    PostMortemRow,
    TimelineNote,
    utcnow,
)

MAX_NAME_CHARS = 256


def get_postmortem(session: Session, incident_id: int) -> PostMortem | None:
    """An incident's post-mortem with its follow-ups and manual entries; None when not written."""
    get_incident(session, incident_id)
    row = session.get(PostMortemRow, incident_id)
    if row is None:
        return None
    return PostMortem(
        incident_id=incident_id,
        **{name: getattr(row, name) for name in POSTMORTEM_FIELDS},
        updated_at=row.updated_at,
        follow_ups=follow_ups(session, incident_id),
        manual_entries=timeline_notes(session, incident_id),
    )


def save_postmortem(session: Session, incident_id: int, fields: dict[str, str]) -> PostMortem:
    """Create or update an incident's post-mortem; only the fields given change."""
    unknown = set(fields) - set(POSTMORTEM_FIELDS)
    if unknown:
        raise ValueError(
            f"post-mortem field {sorted(unknown)[0]!r}: expected {', '.join(POSTMORTEM_FIELDS)}"
        )
    get_incident(session, incident_id)
    row = session.get(PostMortemRow, incident_id)
    if row is None:
        row = PostMortemRow(incident_id=incident_id, summary="", impact="", root_cause="", fix="")
        session.add(row)
    for name, value in fields.items():
        setattr(row, name, check_text(name, value, MAX_POSTMORTEM_CHARS))
    row.updated_at = utcnow()
    session.flush()
    index_incident(session, incident_id)
    found = get_postmortem(session, incident_id)
    assert found is not None
    return found


def _ensure_postmortem(session: Session, incident_id: int) -> None:
    if session.get(PostMortemRow, incident_id) is None:
        save_postmortem(session, incident_id, {})


def add_timeline_note(session: Session, incident_id: int, at: datetime, note: str) -> int:
    """Add a person's timeline entry to an incident's post-mortem; return its id."""
    get_incident(session, incident_id)
    text = check_text("timeline entry", note, MAX_ENTRY_CHARS)
    if not text:
        raise ValueError("timeline entry is empty")
    _ensure_postmortem(session, incident_id)
    row = TimelineNote(incident_id=incident_id, at=at, text=text)
    session.add(row)
    session.flush()
    index_incident(session, incident_id)
    return row.id


def timeline_notes(session: Session, incident_id: int) -> list[TimelineEntry]:
    """The manual timeline entries of an incident, oldest first."""
    stmt = (
        select(TimelineNote)
        .where(TimelineNote.incident_id == incident_id)
        .order_by(TimelineNote.at, TimelineNote.id)
    )
    return [TimelineEntry(n.at, n.text, "manual", n.id) for n in session.scalars(stmt)]


def delete_timeline_note(session: Session, entry_id: int) -> None:
    """Remove one manual timeline entry."""
    row = session.get(TimelineNote, entry_id)
    if row is None:
        raise NotFoundError(f"no timeline entry with id {entry_id}")
    session.delete(row)
    session.flush()
    index_incident(session, row.incident_id)


def add_follow_up(
    session: Session,
    incident_id: int,
    action: str,
    *,
    owner: str | None = None,
    due: datetime | None = None,
) -> int:
    """Add a follow-up action (with its owner and due date) to an incident; return its id."""
    get_incident(session, incident_id)
    text = check_text("follow-up action", action, MAX_ENTRY_CHARS)
    if not text:
        raise ValueError("follow-up action is empty")
    owner = check_text("owner", owner, MAX_NAME_CHARS) or None if owner else None
    _ensure_postmortem(session, incident_id)
    row = FollowUpRow(incident_id=incident_id, action=text, owner=owner, due=due, done=False)
    session.add(row)
    session.flush()
    index_incident(session, incident_id)
    return row.id


def set_follow_up_done(session: Session, follow_up_id: int, done: bool = True) -> None:
    """Mark a follow-up action done (or not done again)."""
    row = session.get(FollowUpRow, follow_up_id)
    if row is None:
        raise NotFoundError(f"no follow-up action with id {follow_up_id}")
    row.done = done


def follow_ups(session: Session, incident_id: int) -> list[FollowUp]:
    """An incident's follow-up actions, in the order they were added."""
    stmt = (
        select(FollowUpRow).where(FollowUpRow.incident_id == incident_id).order_by(FollowUpRow.id)
    )
    return [FollowUp(f.id, f.action, f.owner, f.due, f.done) for f in session.scalars(stmt)]


def set_incident_roles(
    session: Session,
    incident_id: int,
    *,
    kind: str | None = None,
    commander: str | None = None,
    comms_lead: str | None = None,
) -> Incident:
    """Set an incident's kind (service or security), commander and comms lead ("" clears a role)."""
    incident = get_incident(session, incident_id)
    if kind is not None:
        if kind not in INCIDENT_KINDS:
            raise ValueError(f"incident kind {kind!r}: expected one of {', '.join(INCIDENT_KINDS)}")
        incident.kind = kind
    if commander is not None:
        incident.commander = check_text("commander", commander, MAX_NAME_CHARS) or None
    if comms_lead is not None:
        incident.comms_lead = check_text("comms lead", comms_lead, MAX_NAME_CHARS) or None
    return incident


def archive_incident(session: Session, incident_id: int, at: datetime | None = None) -> Incident:
    """Archive a resolved incident: kept with its post-mortem, out of the working lists."""
    incident = get_incident(session, incident_id)
    if incident.status == "open":
        raise ValueError(f"incident {incident_id} is still open: resolve it before archiving")
    incident.archived_at = incident.archived_at or at or utcnow()
    return incident


def delete_incident(session: Session, incident_id: int) -> None:
    """Delete an incident that has no post-mortem; one with a post-mortem must be archived."""
    incident = get_incident(session, incident_id)
    if session.get(PostMortemRow, incident_id) is not None:
        raise ValueError(
            f"incident {incident_id} has a post-mortem: archive it instead of deleting it"
        )
    unindex_incident(session, incident_id)
    session.delete(incident)
    session.flush()
