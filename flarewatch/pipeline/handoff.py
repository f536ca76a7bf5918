"""Helpdesk tickets' statuses read back, per incident or for every unsolved ticket from the monitor loop."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from flarewatch.actions.helpdesk import CLOSED_STATUSES, Helpdesk, ZendeskHelpdesk
from flarewatch.config import ConfigError, Settings
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

log = logging.getLogger(__name__)

# Tickets of incidents resolved longer ago are left to `flarewatch outreach tickets --poll`.
RECENTLY_RESOLVED = timedelta(days=14)
TICKET_FIELDS = ("helpdesk", "scope", "author_ids", "ticket_id", "url")


def zendesk_from_settings(settings: Settings, env: Mapping[str, str]) -> ZendeskHelpdesk:
    """The configured Zendesk account; ConfigError names what is missing."""
    return ZendeskHelpdesk.from_env(settings.zendesk_subdomain, settings.zendesk_email, env)


def store_ticket_status(
    engine: Engine, incident_id: int, ticket: Mapping[str, Any], status: str
) -> int:
    """Store a polled status; a solved or closed ticket resolves its authors (returns how many)."""
    with session_scope(engine) as session:
        queries.set_ticket_status(session, incident_id, ticket["helpdesk"], ticket["scope"], status)
        if status not in CLOSED_STATUSES:
            return 0
        for author_id in ticket["author_ids"]:
            queries.set_outreach_status(session, incident_id, int(author_id), "resolved")
    return len(ticket["author_ids"])


def poll_ticket(
    engine: Engine, incident_id: int, ticket: Mapping[str, Any], helpdesk: Helpdesk
) -> dict[str, Any]:
    """Ask the helpdesk for one ticket's status and store it; a failure comes back as `error`."""
    out = {k: ticket[k] for k in TICKET_FIELDS}
    out.update(incident_id=incident_id, previous=ticket["status"], resolved=0)
    try:
        status = helpdesk.status(str(ticket["ticket_id"]))
    except ValueError as exc:
        return {**out, "status": ticket["status"], "error": str(exc)}
    if status is not None:
        out["resolved"] = store_ticket_status(engine, incident_id, ticket, status)
    return {**out, "status": status or ticket["status"], "error": None}


def poll_incident_tickets(engine: Engine, incident_id: int, helpdesk: Helpdesk) -> list[dict]:
    """Poll every ticket `helpdesk` holds for the incident, closed ones included."""
    with session_scope(engine) as session:
        tickets = queries.incident_tickets(session, incident_id)
    return [
        poll_ticket(engine, incident_id, ticket, helpdesk)
        for ticket in tickets
        if ticket["helpdesk"] == helpdesk.name and ticket["ticket_id"]
    ]


def poll_open_tickets(
    engine: Engine, helpdesk: Helpdesk, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Poll the tickets not yet solved or closed, of incidents open or recently resolved.

    Stops at the first failure (an expired token or a rate limit fails every ticket alike);
    the rest wait for the next poll.
    """
    since = (now or datetime.now(UTC)) - RECENTLY_RESOLVED
    with session_scope(engine) as session:
        tickets = queries.open_tickets(session, helpdesk.name, CLOSED_STATUSES, since)
    rows = []
    for ticket in tickets:
        rows.append(poll_ticket(engine, int(ticket["incident_id"]), ticket, helpdesk))
        if rows[-1]["error"]:
            break
    return rows


def describe_ticket(row: Mapping[str, Any]) -> str:
    """One line about a ticket whose status changed."""
    line = f"ticket {row['ticket_id']} (incident {row['incident_id']}): {row['status']}"
    if row["status"] in CLOSED_STATUSES:
        count = row["resolved"]
        line += f" — {count} author{'s' if count != 1 else ''} resolved"
    return line


@dataclass
class TicketPoll:
    """Ticket statuses read back from the monitor loop, at most once per `every`."""

    engine: Engine
    helpdesk: Helpdesk
    every: timedelta
    last: datetime | None = None

    def run_due(self, now: datetime | None = None) -> list[str]:
        """Poll now if due; one line per ticket whose status changed. Failures are only logged."""
        now = now or datetime.now(UTC)
        if self.last is not None and now - self.last < self.every:
            return []
        self.last = now
        try:
            rows = poll_open_tickets(self.engine, self.helpdesk, now=now)
        except Exception as exc:  # the monitor loop outlives any helpdesk trouble
            log.warning(
                "ticket poll (%s) failed: %s",
                self.helpdesk.name,
                _one_line(f"{type(exc).__name__}: {exc}"),
            )
            return []
        for row in (r for r in rows if r["error"]):
            log.warning("ticket %s poll failed: %s", row["ticket_id"], _one_line(row["error"]))
        changed = [r for r in rows if not r["error"] and r["status"] != r["previous"]]
        return [describe_ticket(row) for row in changed]


def ticket_poll_for(
    engine: Engine, settings: Settings, env: Mapping[str, str]
) -> TicketPoll | None:
    """The monitor loop's ticket poll, or None without Zendesk set up or with polling off (0)."""
    if settings.ticket_poll_minutes <= 0:
        return None
    try:
        helpdesk = zendesk_from_settings(settings, env)
    except ConfigError:
        return None  # no helpdesk to poll: the webhook hand-off cannot report statuses
    return TicketPoll(engine, helpdesk, timedelta(minutes=settings.ticket_poll_minutes))


def _one_line(error: Any) -> str:
    return " ".join(str(error).split())
