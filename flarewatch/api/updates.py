"""Public incident updates: compose, preview, approve, publish (dry run unless asked), our voice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from flarewatch.actions import make_publisher
from flarewatch.actions.limits import MASTODON_DEFAULT_LIMIT
from flarewatch.actions.templates import DEFAULT_TEMPLATES, render
from flarewatch.api.outreach import outreach_authors
from flarewatch.api.reports import marketing_posture
from flarewatch.collectors.watch import credentials, load_watch
from flarewatch.config import ConfigError
from flarewatch.domain import IncidentRecord
from flarewatch.pipeline.frames import get_incident
from flarewatch.pipeline.publish import Draft, Preview, PublisherFactory, draft, preview, send_all
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

OUTBOUND_COLUMNS = list(queries.OUTBOUND_FIELDS)
# Unhappy authors at or above this priority (0-100) must be answered before an incident closes.
HIGH_PRIORITY = 50.0


class HoldError(ValueError):
    """Marketing hold is on for the brand: a post that is not an incident update is refused."""


class UnansweredError(ValueError):
    """Closing an incident while high-priority unhappy authors are still unanswered."""

    def __init__(self, incident_id: int, authors: pd.DataFrame):
        super().__init__(
            f"incident {incident_id} has {len(authors)} high-priority unhappy author(s) "
            "still unanswered; confirm to close anyway"
        )
        self.authors = authors


def own_accounts(watch_file: str, brand: str | None) -> dict[str, str]:
    """The brand's own accounts per destination, from the watch file (`[brands.own]`)."""
    watch = load_watch(watch_file)
    found = next((b for b in watch.brands if b.name == brand), None)
    if found is None:
        raise ConfigError(f"brand {brand!r} is not in {watch_file}")
    if not found.own:
        raise ConfigError(f"brand {brand!r} has no own accounts in {watch_file} (add [brands.own])")
    return dict(found.own)


def compose_update(
    engine: Engine, incident_id: int, values: Mapping[str, Any], template: str | None = None
) -> str:
    """An update's text from a template and the incident's fields (title, brand, severity).

    Until given, what is affected reads as the incident's title and the next update is
    promised within the severity's silence limit (30 min for SEV1, else 60).
    """
    incident = get_incident(engine, incident_id)
    soon = datetime.now(UTC) + timedelta(minutes=30 if incident.severity == "SEV1" else 60)
    fields = {
        "title": incident.title,
        "brand": incident.brand,
        "severity": incident.severity,
        "affected": incident.title,
        "next_update": f"{soon:%H:%M} UTC",
    }
    chosen = template or DEFAULT_TEMPLATES["resolved" if incident.status != "open" else "update"]
    return render(chosen, {**fields, **{k: v for k, v in values.items() if v}})


def preview_update(
    text: str, accounts: Mapping[str, str], *, mastodon_limit: int = MASTODON_DEFAULT_LIMIT
) -> list[Preview]:
    """What each destination would get (a thread where long), or why it cannot take the text."""
    return preview(text, accounts, mastodon_limit=mastodon_limit)


def draft_update(
    engine: Engine,
    incident_id: int,
    text: str,
    accounts: Mapping[str, str],
    *,
    drafted_by: str | None,
    mastodon_limit: int = MASTODON_DEFAULT_LIMIT,
) -> Draft:
    """Store the update as a draft per destination (errors per destination for over-long text)."""
    get_incident(engine, incident_id)
    return draft(
        engine,
        text,
        accounts,
        incident_id=incident_id,
        drafted_by=drafted_by,
        mastodon_limit=mastodon_limit,
    )


def marketing_hold(engine: Engine, brand: str | None) -> tuple[bool, str]:
    """Whether marketing must hold for `brand` now (any of its incidents says so), and why."""
    with session_scope(engine) as session:
        incidents = [
            i for i in queries.incident_records(session) if i.brand == brand or i.brand is None
        ]
    for incident in incidents:
        posture = marketing_posture(engine, incident.id)
        if posture.hold:
            return True, f"incident {incident.id} '{incident.title}': {posture.reason}"
    return False, "no incident asks marketing to hold"


def draft_post(
    engine: Engine,
    brand: str | None,
    text: str,
    accounts: Mapping[str, str],
    *,
    drafted_by: str | None,
    mastodon_limit: int = MASTODON_DEFAULT_LIMIT,
) -> Draft:
    """Draft a post that is not an incident update; refused with the reason while marketing holds."""
    hold, reason = marketing_hold(engine, brand)
    if hold:
        raise HoldError(f"marketing hold is on: {reason}")
    return draft(
        engine,
        text,
        accounts,
        incident_id=None,
        drafted_by=drafted_by,
        mastodon_limit=mastodon_limit,
    )


def approve_update(engine: Engine, item_id: int, approved_by: str) -> dict[str, Any]:
    """Approve a draft as a user other than its drafter (the two-person rule)."""
    with session_scope(engine) as session:
        return queries.approve_outbound(session, item_id, approved_by)


def outbound(
    engine: Engine, *, incident_id: int | None = None, kind: str | None = None
) -> pd.DataFrame:
    """Every stored outbound item (drafts, sent, failed), oldest first."""
    with session_scope(engine) as session:
        rows = queries.outbound_items(session, incident_id=incident_id, kind=kind)
    return pd.DataFrame(rows, columns=OUTBOUND_COLUMNS)


def publish_update(
    engine: Engine,
    incident_id: int,
    *,
    send: bool = False,
    require_approval: bool = False,
    item_ids: Sequence[int] | None = None,
    statuspage_status: str | None = None,
    publisher_for: PublisherFactory | None = None,
    env: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Publish an incident's unsent drafts; a dry run (the default) sends and changes nothing.

    Returns one row per item: sent ones with remote id and URL, failed ones with the reason.
    """
    with session_scope(engine) as session:
        rows = [
            r
            for r in queries.outbound_items(session, incident_id=incident_id, kind="update")
            if r["status"] != "sent" and (item_ids is None or r["id"] in item_ids)
        ]
    if not send:
        return [{**r, "dry_run": True} for r in rows]
    options = {"status": statuspage_status} if statuspage_status else None
    return send_all(
        engine,
        [r["id"] for r in rows],
        publisher_for or live_publishers(env),
        require_approval=require_approval,
        options=options,
    )


def live_publishers(env: Mapping[str, str] | None = None) -> PublisherFactory:
    """Publishers that post for real, with credentials from the environment and .env."""
    creds = credentials(env)

    def publisher_for(destination: str, account: str) -> Any:
        return make_publisher(destination, account, creds)

    return publisher_for


def unanswered_authors(
    engine: Engine, incident_id: int, *, min_priority: float = HIGH_PRIORITY
) -> pd.DataFrame:
    """High-priority unhappy authors of an incident nobody has answered yet (status "new")."""
    ranked = outreach_authors(engine, incident_id)
    waiting = ranked.loc[(ranked["status"] == "new") & (ranked["priority"] >= min_priority)]
    return waiting.reset_index(drop=True)


def finish_incident(
    engine: Engine,
    incident_id: int,
    *,
    confirm: bool = False,
    at: datetime | None = None,
    min_priority: float = HIGH_PRIORITY,
) -> IncidentRecord:
    """Close an incident (customers answered); unanswered high-priority authors need `confirm`."""
    waiting = unanswered_authors(engine, incident_id, min_priority=min_priority)
    if len(waiting) and not confirm:
        raise UnansweredError(incident_id, waiting)
    with session_scope(engine) as session:
        return queries.incident_record(queries.finish_incident(session, incident_id, at))
