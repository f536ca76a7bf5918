"""Hand unhappy authors to a helpdesk: Zendesk tickets through zenpy, or a generic JSON webhook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import httpx

from flarewatch.config import ConfigError, require_secret

HANDOFF_EVENT = "outreach.handoff"
HANDOFF_MODES = ("author", "problem")
# Zendesk's ticket statuses that mean support is done with the customer.
CLOSED_STATUSES = ("solved", "closed")
SEVERITY_PRIORITY = {"SEV1": "urgent", "SEV2": "high"}
TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Handoff:
    """One ticket to open: an author's complaints, or the incident's problem ticket."""

    incident_id: int
    scope: str
    author_ids: tuple[int, ...]
    subject: str
    body: str
    priority: str
    tags: tuple[str, ...]
    links: tuple[str, ...]


@dataclass(frozen=True)
class TicketRef:
    """A ticket as the helpdesk stored it."""

    ticket_id: str | None
    url: str | None
    status: str | None


class Helpdesk(Protocol):
    """Opens tickets and reports their status."""

    name: str

    def create(self, handoff: Handoff) -> TicketRef:
        """Open one ticket."""
        ...

    def status(self, ticket_id: str) -> str | None:
        """The ticket's current status, or None when the helpdesk cannot be asked."""
        ...


def ticket_priority(severity: str, author_priority: float) -> str:
    """Zendesk priority from the incident's severity and the author's 0-100 outreach priority."""
    if severity in SEVERITY_PRIORITY:
        return SEVERITY_PRIORITY[severity]
    return "high" if author_priority >= 70 else "normal" if author_priority >= 40 else "low"


def _author_lines(row: Mapping[str, Any]) -> str:
    lines = [
        f"@{row.get('handle') or row['author_id']} on {row['platform']} "
        f"(priority {row.get('priority', 0):.0f}): {row.get('reason') or ''}",
        f"Latest complaint: {row.get('latest_post') or '(no text)'}",
    ]
    if row.get("latest_url"):
        lines.append(f"Link: {row['latest_url']}")
    if row.get("reply_url"):
        lines.append(f"Our public reply: {row['reply_url']}")
    return "\n".join(lines)


def build_handoffs(
    incident: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], mode: str = "author"
) -> list[Handoff]:
    """One ticket per author (`author`), or one problem ticket listing them all (`problem`)."""
    if mode not in HANDOFF_MODES:
        raise ValueError(f"hand-off mode {mode!r}: expected one of {', '.join(HANDOFF_MODES)}")
    title, severity = str(incident["title"]), str(incident.get("severity") or "SEV3")
    tags = ("flarewatch", f"flarewatch_incident_{incident['id']}")
    head = f"Incident {incident['id']} ({severity}): {title}"
    if mode == "problem":
        top = max((float(r.get("priority") or 0) for r in rows), default=0.0)
        body = "\n\n".join([head, *(_author_lines(r) for r in rows)])
        links = tuple(str(r["latest_url"]) for r in rows if r.get("latest_url"))
        ids = tuple(int(r["author_id"]) for r in rows)
        subject = f"[{severity}] {title}: {len(rows)} unhappy customers"
        priority = ticket_priority(severity, top)
        return [Handoff(int(incident["id"]), "problem", ids, subject, body, priority, tags, links)]
    return [
        Handoff(
            incident_id=int(incident["id"]),
            scope=f"author:{row['author_id']}",
            author_ids=(int(row["author_id"]),),
            subject=f"[{severity}] {title}: @{row.get('handle') or row['author_id']} on {row['platform']}",
            body=f"{head}\n\n{_author_lines(row)}",
            priority=ticket_priority(severity, float(row.get("priority") or 0)),
            tags=tags,
            links=(str(row["latest_url"]),) if row.get("latest_url") else (),
        )
        for row in rows
    ]


class ZendeskHelpdesk:
    """Zendesk Support tickets through zenpy: create, show (status poll) and comment updates."""

    name = "zendesk"

    def __init__(self, client: Any, subdomain: str):
        self.client, self.subdomain = client, subdomain

    @classmethod
    def from_env(
        cls, subdomain: str | None, email: str | None, env: Mapping[str, str]
    ) -> ZendeskHelpdesk:
        from zenpy import Zenpy

        if not subdomain or not email:
            raise ConfigError("set zendesk_subdomain and zendesk_email to hand off to Zendesk")
        token = require_secret("ZENDESK_API_TOKEN", dict(env))
        client = Zenpy(subdomain=subdomain, email=email, token=token, disable_cache=True)
        return cls(client, subdomain)

    def url(self, ticket_id: Any) -> str:
        return f"https://{self.subdomain}.zendesk.com/agent/tickets/{ticket_id}"

    def create(self, handoff: Handoff) -> TicketRef:
        from zenpy.lib.api_objects import Comment, Ticket

        ticket = Ticket(
            subject=handoff.subject,
            comment=Comment(body=handoff.body, public=False),
            priority=handoff.priority,
            type="problem" if handoff.scope == "problem" else "incident",
            tags=list(handoff.tags),
            external_id=f"flarewatch-{handoff.incident_id}-{handoff.scope}",
        )
        created = self._call(lambda: self.client.tickets.create(ticket)).ticket
        return TicketRef(str(created.id), self.url(created.id), created.status)

    def status(self, ticket_id: str) -> str | None:
        return str(self._call(lambda: self.client.tickets(id=int(ticket_id))).status)

    def note(self, ticket_id: str, text: str) -> str | None:
        """Add an internal comment (a follow-up went out); returns the ticket's status."""
        from zenpy.lib.api_objects import Comment, Ticket

        update = Ticket(id=int(ticket_id), comment=Comment(body=text, public=False))
        return str(self._call(lambda: self.client.tickets.update(update)).ticket.status)

    def _call(self, call: Any) -> Any:
        from zenpy.lib.exception import APIException, ZenpyException

        try:
            return call()
        except APIException as exc:
            code = getattr(getattr(exc, "response", None), "status_code", None)
            raise ValueError(f"zendesk: error {code}: {exc}") from exc
        except ZenpyException as exc:
            raise ValueError(f"zendesk: {exc}") from exc


class WebhookHelpdesk:
    """POSTs each hand-off as JSON (`event: outreach.handoff`) for any other helpdesk."""

    name = "webhook"

    def __init__(self, url: str, client: httpx.Client | None = None):
        self.url_, self.client = url, client

    def create(self, handoff: Handoff) -> TicketRef:
        body = {"event": HANDOFF_EVENT, **asdict(handoff)}
        try:
            if self.client is not None:
                response = self.client.post(self.url_, json=body)
            else:
                response = httpx.post(self.url_, json=body, timeout=TIMEOUT_S)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise ValueError(f"hand-off webhook: {exc}") from exc
        answer = _json_or_empty(response)
        ticket_id = answer.get("id") or answer.get("ticket_id")
        return TicketRef(
            str(ticket_id) if ticket_id is not None else None,
            answer.get("url"),
            answer.get("status"),
        )

    def status(self, ticket_id: str) -> str | None:
        return None


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
