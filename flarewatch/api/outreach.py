"""Outreach: unhappy authors ranked, their latest complaints and support's status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from flarewatch.analysis.outreach import OUTREACH_COLUMNS, rank_authors, reasons
from flarewatch.domain import OutreachFilter
from flarewatch.pipeline.frames import IncidentScope, incident_scope
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

# `scored` counts posts with a sentiment; other-language and unscored posts are left out of rates.
OUTREACH_TABLE_COLUMNS = [
    *OUTREACH_COLUMNS,
    "latest_post",
    "latest_url",
    "status",
    "assignee",
    "note",
]
# What a ranking returns before the latest complaints are joined in.
RANKED_COLUMNS = [*OUTREACH_COLUMNS, "status", "assignee", "note"]


def outreach(
    engine: Engine,
    incident_id: int,
    *,
    now: datetime | None = None,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Unhappy authors of an incident ranked by priority, with reason, latest complaint and status."""
    scope = incident_scope(engine, incident_id, model_version)
    ranked = outreach_authors(engine, incident_id, now=now, scope=scope)
    complaints = latest_complaints(engine, incident_id, ranked["author_id"].tolist(), scope=scope)
    return with_complaints(ranked, complaints)


def outreach_authors(
    engine: Engine,
    incident_id: int,
    *,
    now: datetime | None = None,
    model_version: str | None = None,
    scope: IncidentScope | None = None,
) -> pd.DataFrame:
    """`outreach` without the latest complaint texts: cheaper when only some rows are shown."""
    scope = scope or incident_scope(engine, incident_id, model_version)
    with session_scope(engine) as session:
        rows = queries.incident_author_activity(
            session, incident_id, model_version=scope.model_version
        )
        states = queries.outreach_states(session, incident_id)
    ranked = rank_authors(rows, _ranked_at(scope, now))
    ids = ranked["author_id"]
    ranked["status"] = ids.map({a: s["status"] for a, s in states.items()}).fillna("new")
    for column in ("assignee", "note"):
        ranked[column] = _none_for_missing(ids.map({a: s[column] for a, s in states.items()}))
    return ranked[RANKED_COLUMNS]


@dataclass(frozen=True)
class OutreachPage:
    """One page of an incident's ranked unhappy authors, and how many there are."""

    rows: pd.DataFrame  # RANKED_COLUMNS, highest priority first
    authors: int
    not_contacted: int
    matching: int
    platforms: list[str]


def outreach_page(
    engine: Engine,
    incident_id: int,
    where: OutreachFilter | None = None,
    *,
    limit: int | None = None,
    now: datetime | None = None,
    model_version: str | None = None,
) -> OutreachPage:
    """The `limit` highest priorities matching `where`, ranked and filtered in the database.

    What the Outreach page shows at any incident size: the database returns only these rows.
    """
    scope = incident_scope(engine, incident_id, model_version)
    now = _ranked_at(scope, now)
    args: dict[str, Any] = {
        "model_version": scope.model_version,
        "now": now,
        "where": where or OutreachFilter(),
    }
    with session_scope(engine) as session:
        top = queries.top_incident_authors(session, incident_id, limit=limit, **args)
        counts = queries.incident_author_counts(session, incident_id, **args)
    top["reason"] = reasons(top, now) if not top.empty else pd.Series(dtype=object)
    return OutreachPage(top[RANKED_COLUMNS], **counts)


def _ranked_at(scope: IncidentScope, now: datetime | None) -> datetime:
    # An incident resolved long ago is ranked as at its window's end, not by today's recency.
    return now or min(scope.end, datetime.now(UTC))


def _none_for_missing(values: pd.Series) -> pd.Series:
    # `map` leaves NaN where nothing matched; editors and CSVs would show (and save) "nan".
    return values.astype(object).where(values.notna(), None)


def latest_complaints(
    engine: Engine,
    incident_id: int,
    author_ids: Sequence[int],
    *,
    model_version: str | None = None,
    scope: IncidentScope | None = None,
) -> pd.DataFrame:
    """Each author's newest negative post in an incident's window: `latest_post`, `latest_url`."""
    scope = scope or incident_scope(engine, incident_id, model_version)
    with session_scope(engine) as session:
        latest = queries.latest_negative_post(session, author_ids, **scope.window())
    frame = pd.DataFrame(
        [(a, p["text"], p["url"]) for a, p in latest.items()],
        columns=["author_id", "latest_post", "latest_url"],
    )
    return frame.set_index("author_id")


def with_complaints(ranked: pd.DataFrame, complaints: pd.DataFrame) -> pd.DataFrame:
    """`outreach_authors` rows with their `latest_complaints`, in `OUTREACH_TABLE_COLUMNS` order."""
    joined = ranked.join(complaints, on="author_id")
    for column in complaints.columns:
        joined[column] = _none_for_missing(joined[column])
    return joined[OUTREACH_TABLE_COLUMNS]


def set_outreach(
    engine: Engine,
    incident_id: int,
    author_id: int,
    *,
    status: str,
    assignee: str | None = None,
    note: str | None = None,
) -> None:
    """Record support's status (new/contacted/resolved/ignored), assignee and note for an author."""
    with session_scope(engine) as session:
        queries.set_outreach(
            session, incident_id, author_id, status=status, assignee=assignee, note=note
        )
