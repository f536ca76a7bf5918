"""Turn Statuspage and PagerDuty webhook payloads into open/resolve events and apply them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from flarewatch.domain import parse_time
from flarewatch.storage import queries
from flarewatch.storage.schema import Incident, utcnow

STATUSPAGE_RESOLVED = frozenset({"resolved", "postmortem", "completed"})
# PagerDuty urgency/priority and Statuspage impact mapped onto our SEV scale.
PAGERDUTY_SEVERITY = {"P1": "SEV1", "P2": "SEV2", "P3": "SEV3", "P4": "SEV4", "P5": "SEV4"}
URGENCY_SEVERITY = {"high": "SEV2", "low": "SEV3"}
IMPACT_SEVERITY = {"critical": "SEV1", "major": "SEV2", "minor": "SEV3", "none": "SEV4"}


class UnknownPayloadError(ValueError):
    """A JSON body that is neither a Statuspage nor a PagerDuty incident webhook."""


@dataclass(frozen=True)
class IncidentEvent:
    """One open or resolve event from an outside tool."""

    source: str
    external_id: str
    action: str  # "open", "resolve" or "update"
    title: str
    at: datetime
    severity: str | None = None


def _time(value: Any) -> datetime:
    return parse_time(value) if value else utcnow()


def parse_statuspage(payload: Mapping[str, Any]) -> IncidentEvent:
    """Parse a Statuspage incident webhook (`{"incident": {"id", "name", "status", ...}}`)."""
    incident = payload["incident"]
    resolved = incident.get("status") in STATUSPAGE_RESOLVED
    when = incident.get("resolved_at") if resolved else incident.get("created_at")
    return IncidentEvent(
        source="statuspage",
        external_id=str(incident["id"]),
        action="resolve" if resolved else "open",
        title=str(incident.get("name") or "Statuspage incident"),
        at=_time(when or incident.get("updated_at")),
        severity=IMPACT_SEVERITY.get(str(incident.get("impact"))),
    )


def _pagerduty_severity(data: Mapping[str, Any]) -> str | None:
    priority = data.get("priority") or {}
    summary = priority.get("summary") if isinstance(priority, Mapping) else None
    return PAGERDUTY_SEVERITY.get(str(summary)) or URGENCY_SEVERITY.get(str(data.get("urgency")))


def parse_pagerduty(payload: Mapping[str, Any]) -> IncidentEvent:
    """Parse a PagerDuty V3 webhook (`{"event": {"event_type": "incident.triggered", ...}}`)."""
    event = payload["event"]
    data = event.get("data") or {}
    kind = str(event.get("event_type", ""))
    action = {"incident.triggered": "open", "incident.resolved": "resolve"}.get(kind, "update")
    return IncidentEvent(
        source="pagerduty",
        external_id=str(data["id"]),
        action=action,
        title=str(data.get("title") or "PagerDuty incident"),
        at=_time(event.get("occurred_at") or data.get("created_at")),
        severity=_pagerduty_severity(data),
    )


def parse_event(payload: Any) -> IncidentEvent:
    """Recognise and parse a Statuspage or PagerDuty incident webhook body."""
    if isinstance(payload, Mapping):
        if isinstance(payload.get("incident"), Mapping):
            return parse_statuspage(payload)
        event = payload.get("event")
        if isinstance(event, Mapping) and str(event.get("event_type", "")).startswith("incident."):
            return parse_pagerduty(payload)
    raise UnknownPayloadError("not a Statuspage or PagerDuty incident webhook payload")


def apply_event(session: Session, event: IncidentEvent, brand: str | None = None) -> Incident:
    """Open, resolve or update the incident `event` names; replaying an event changes nothing."""
    incident = queries.linked_incident(session, event.source, event.external_id)
    if incident is None:
        incident = queries.open_incident(
            session, event.title, brand=brand, severity=event.severity or "SEV3", opened_at=event.at
        )
        queries.link_incident(session, event.source, event.external_id, incident.id)
    elif event.severity and event.action != "resolve":
        queries.update_incident(session, incident.id, severity=event.severity)
    if event.action == "resolve" and incident.status != "resolved":
        queries.close_incident(session, incident.id, event.at)
    return incident
