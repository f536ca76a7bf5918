"""Full-text search over past incidents: SQLite FTS5, or PostgreSQL tsvector with a GIN index."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from flarewatch.storage.schema import (
    FollowUpRow,
    Incident,
    PostMortemRow,
    SpikeEvent,
    TimelineNote,
    UTCDateTime,
)

WORD = re.compile(r"\w+", re.UNICODE)
SEARCH_FIELDS = ("incident_id", "title", "brand", "status", "opened_at", "rank", "snippet")
MAX_QUERY_CHARS = 400
_UTC = UTCDateTime()


def _postmortem_text(session: Session, incident_id: int) -> str:
    parts: list[str] = []
    found = session.get(PostMortemRow, incident_id)
    if found is not None:
        parts += [found.summary, found.impact, found.root_cause, found.fix]
    notes = select(TimelineNote.text).where(TimelineNote.incident_id == incident_id)
    actions = select(FollowUpRow.action).where(FollowUpRow.incident_id == incident_id)
    parts += list(session.scalars(notes)) + list(session.scalars(actions))
    return "\n".join(p for p in parts if p)


def _themes_text(session: Session, incident: Incident) -> str:
    terms = list(incident.fingerprint_terms or [])
    events = select(SpikeEvent.themes).where(SpikeEvent.incident_id == incident.id)
    for themes in session.scalars(events):
        for theme in themes or []:
            terms += [str(t) for t in theme.get("terms") or []]
    return " ".join(dict.fromkeys(terms))


def index_incident(session: Session, incident_id: int) -> None:
    """Write (or rewrite) one incident's search document from its current rows."""
    incident = session.get(Incident, incident_id)
    session.execute(
        text("DELETE FROM incident_search WHERE incident_id = :id"), {"id": incident_id}
    )
    if incident is None:
        return
    session.execute(
        text(
            "INSERT INTO incident_search (incident_id, brand, title, postmortem, themes) "
            "VALUES (:id, :brand, :title, :postmortem, :themes)"
        ),
        {
            "id": incident_id,
            "brand": incident.brand,
            "title": incident.title,
            "postmortem": _postmortem_text(session, incident_id),
            "themes": _themes_text(session, incident),
        },
    )


def unindex_incident(session: Session, incident_id: int) -> None:
    """Drop an incident's search document (before the incident itself is deleted)."""
    session.execute(
        text("DELETE FROM incident_search WHERE incident_id = :id"), {"id": incident_id}
    )


def _words(query: str) -> list[str]:
    if len(query) > MAX_QUERY_CHARS:
        raise ValueError(f"search text is {len(query)} characters, at most {MAX_QUERY_CHARS}")
    words = WORD.findall(query)
    if not words:
        raise ValueError(f"search text {query!r} has no words to look for")
    return words


SQLITE_SEARCH = """
SELECT s.incident_id, i.title, i.brand, i.status, i.opened_at,
       bm25(incident_search, 0.0, 0.0, 10.0, 4.0, 2.0) AS rank,
       snippet(incident_search, -1, '«', '»', '…', 12) AS snippet
FROM incident_search AS s JOIN incidents AS i ON i.id = s.incident_id
WHERE incident_search MATCH :q {brand}
ORDER BY rank LIMIT :limit
"""

PG_SEARCH = """
SELECT s.incident_id, i.title, i.brand, i.status, i.opened_at,
       ts_rank(s.document, q) AS rank,
       ts_headline('english', s.title || ' ' || s.postmortem || ' ' || s.themes, q,
                   'StartSel=«,StopSel=»,MaxWords=14,MinWords=4') AS snippet
FROM incident_search AS s JOIN incidents AS i ON i.id = s.incident_id,
     plainto_tsquery('english', :q) AS q
WHERE s.document @@ q {brand}
ORDER BY rank DESC LIMIT :limit
"""


def search_incidents(
    session: Session, query: str, *, brand: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Incidents whose title, post-mortem or complaint themes hold every word of `query`, best first.

    One function for both backends: FTS5 (porter stemming, bm25 with the title weighted most)
    on SQLite, `plainto_tsquery('english')` over a GIN-indexed tsvector on PostgreSQL.
    """
    words = _words(query)
    where = "AND s.brand = :brand" if brand is not None else ""
    params: dict[str, Any] = {"brand": brand, "limit": limit}
    if session.get_bind().dialect.name == "postgresql":
        sql, params["q"] = PG_SEARCH.format(brand=where), " ".join(words)
    else:
        # Each word quoted: FTS5 operators and column filters in user text are just words.
        sql = SQLITE_SEARCH.format(brand=where)
        params["q"] = " ".join('"' + w.replace('"', '""') + '"' for w in words)
    rows = session.execute(text(sql), params).mappings().all()
    return [_search_row(dict(r)) for r in rows]


def _search_row(row: dict[str, Any]) -> dict[str, Any]:
    row["opened_at"] = _UTC.process_result_value(row["opened_at"], None)  # type: ignore[arg-type]
    row["rank"] = abs(float(row["rank"]))
    return {key: row[key] for key in SEARCH_FIELDS}
