"""Helpdesk hand-off: tickets for unhappy authors, their ids stored, their status polled back."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from flarewatch.actions.helpdesk import (
    Handoff,
    Helpdesk,
    WebhookHelpdesk,
    ZendeskHelpdesk,
    build_handoffs,
)
from flarewatch.api.outreach import outreach
from flarewatch.config import ConfigError, Settings
from flarewatch.pipeline.frames import get_incident, incident_row
from flarewatch.pipeline.handoff import (
    TICKET_FIELDS,
    poll_incident_tickets,
    store_ticket_status,
    zendesk_from_settings,
)
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

TICKET_COLUMNS = ["helpdesk", "scope", "author_ids", "ticket_id", "url", "status", "error"]


def zendesk_for(settings: Settings, env: Mapping[str, str] | None = None) -> ZendeskHelpdesk:
    """The configured Zendesk account; ConfigError names what is missing."""
    return zendesk_from_settings(settings, os.environ if env is None else env)


def helpdesk_for(settings: Settings, kind: str, env: Mapping[str, str] | None = None) -> Helpdesk:
    """The configured Zendesk account or hand-off webhook; ConfigError names what is missing."""
    if kind == "zendesk":
        return zendesk_for(settings, env)
    if kind == "webhook":
        url = settings.secret("handoff_webhook_url")
        if not url:
            raise ConfigError("set FLAREWATCH_HANDOFF_WEBHOOK_URL (environment or .env)")
        return WebhookHelpdesk(url)
    raise ValueError(f"helpdesk {kind!r}: expected zendesk or webhook")


def draft_handoffs(
    engine: Engine, incident_id: int, author_ids: Sequence[int], *, mode: str = "author"
) -> list[Handoff]:
    """The tickets a hand-off would open, for preview; unknown authors raise ValueError."""
    incident = incident_row(get_incident(engine, incident_id))
    table = outreach(engine, incident_id)
    rows = table.loc[table["author_id"].isin(list(author_ids))]
    missing = sorted(set(author_ids) - set(rows["author_id"].astype(int)))
    if missing:
        raise ValueError(
            f"author(s) {', '.join(map(str, missing))} are not unhappy authors of incident {incident_id}"
        )
    with session_scope(engine) as session:
        replies = queries.incident_replies(session, incident_id)
    reply_urls = {int(r["author_id"]): r["url"] for r in replies if r["state"] == "sent"}
    records = [
        {**row, "reply_url": reply_urls.get(int(row["author_id"]))}
        for row in rows.to_dict("records")
    ]
    return build_handoffs(incident, records, mode)


def send_handoffs(engine: Engine, handoffs: Sequence[Handoff], helpdesk: Helpdesk) -> pd.DataFrame:
    """Open each ticket once (a scope already handed off is skipped); authors go `handed_off`."""
    rows = []
    for handoff in handoffs:
        rows.append(_send_handoff(engine, handoff, helpdesk))
    return pd.DataFrame(rows, columns=TICKET_COLUMNS)


def _send_handoff(engine: Engine, handoff: Handoff, helpdesk: Helpdesk) -> dict[str, Any]:
    out = {
        "helpdesk": helpdesk.name,
        "scope": handoff.scope,
        "author_ids": list(handoff.author_ids),
    }
    with session_scope(engine) as session:
        known = queries.incident_tickets(session, handoff.incident_id)
    done = [t for t in known if t["helpdesk"] == helpdesk.name and t["scope"] == handoff.scope]
    if done:
        return {**out, **_ticket(done[0]), "error": "already handed off"}
    try:
        ref = helpdesk.create(handoff)
    except ValueError as exc:
        return {**out, "ticket_id": None, "url": None, "status": None, "error": str(exc)}
    with session_scope(engine) as session:
        queries.save_ticket(
            session,
            handoff.incident_id,
            helpdesk.name,
            handoff.scope,
            author_ids=handoff.author_ids,
            ticket_id=ref.ticket_id,
            url=ref.url,
            status=ref.status,
        )
        for author_id in handoff.author_ids:
            queries.set_outreach_status(session, handoff.incident_id, author_id, "handed_off")
    return {**out, "ticket_id": ref.ticket_id, "url": ref.url, "status": ref.status, "error": None}


def _ticket(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("ticket_id", "url", "status")}


def poll_tickets(engine: Engine, incident_id: int, helpdesk: Helpdesk) -> pd.DataFrame:
    """Read each ticket's status back; a solved or closed ticket resolves its authors' outreach."""
    rows = poll_incident_tickets(engine, incident_id, helpdesk)
    return pd.DataFrame(rows, columns=TICKET_COLUMNS)


def outreach_tickets(engine: Engine, incident_id: int) -> pd.DataFrame:
    """Every helpdesk ticket of an incident."""
    get_incident(engine, incident_id)
    with session_scope(engine) as session:
        rows = queries.incident_tickets(session, incident_id)
    return pd.DataFrame(rows, columns=[c for c in TICKET_COLUMNS if c != "error"] + ["updated_at"])


def note_tickets(
    engine: Engine, incident_id: int, helpdesk: ZendeskHelpdesk, text: str
) -> pd.DataFrame:
    """Add an internal comment to each of the incident's Zendesk tickets (e.g. "fixed, followed up")."""
    if not text.strip():
        raise ValueError("the ticket note is empty")
    with session_scope(engine) as session:
        tickets = queries.incident_tickets(session, incident_id)
    rows = []
    for ticket in (t for t in tickets if t["helpdesk"] == helpdesk.name and t["ticket_id"]):
        out = {k: ticket[k] for k in TICKET_FIELDS}
        try:
            status = helpdesk.note(str(ticket["ticket_id"]), text)
        except ValueError as exc:
            rows.append({**out, "status": ticket["status"], "error": str(exc)})
            continue
        if status is not None:
            store_ticket_status(engine, incident_id, ticket, status)
        rows.append({**out, "status": status, "error": None})
    return pd.DataFrame(rows, columns=TICKET_COLUMNS)
