"""Incident memory workflows: fingerprint incidents, match a new spike against the brand's past."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from flarewatch.analysis.memory import Fingerprint, fingerprint, rank_similar, stack_vectors
from flarewatch.analysis.themes import find_themes
from flarewatch.pipeline.frames import Embedder, default_embedder, get_incident, negative_posts
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

FINGERPRINT_POSTS = 500
MATCHES = 3


def embedder_name(embedder: Embedder) -> str:
    """The name fingerprints made by `embedder` are stored under (its model version)."""
    return str(getattr(embedder, "version", type(embedder).__name__))


def posts_fingerprint(
    engine: Engine,
    brand: str | None,
    start: datetime,
    end: datetime,
    embedder: Embedder,
) -> tuple[Fingerprint | None, Any]:
    """The fingerprint of `brand`'s negative posts in [start, end), and their embeddings/texts."""
    frame = negative_posts(engine, brand=brand, start=start, end=end, limit=FINGERPRINT_POSTS)
    if frame.empty:
        return None, None
    texts = frame["text"].astype(str).tolist()
    vectors = embedder.embed(texts, batch_size=32)
    stop = (brand or "").lower().split()
    return fingerprint(texts, vectors, stop_terms=stop), (texts, vectors, frame["id"].tolist())


def fingerprint_incident(
    engine: Engine, incident_id: int, embedder: Embedder | None = None
) -> bool:
    """Compute and store an incident's fingerprint from its negative posts; False without posts."""
    model = embedder or default_embedder()
    incident = get_incident(engine, incident_id)
    end = incident.resolved_at or datetime.now(UTC)
    found, _ = posts_fingerprint(engine, incident.brand, incident.opened_at, end, model)
    if found is None:
        return False
    with session_scope(engine) as session:
        queries.set_fingerprint(
            session, incident_id, found.to_bytes(), found.terms, embedder_name(model)
        )
    return True


def fingerprint_missing(engine: Engine, brand: str | None, embedder: Embedder) -> int:
    """Fingerprint the resolved incidents of `brand` that lack one from this model; return count."""
    with session_scope(engine) as session:
        missing = queries.unfingerprinted(session, brand, embedder_name(embedder))
    return sum(fingerprint_incident(engine, incident_id, embedder) for incident_id in missing)


def similar_incidents(
    engine: Engine,
    query: Fingerprint,
    *,
    brand: str | None,
    model: str,
    exclude: int | None = None,
    top: int = MATCHES,
) -> list[dict[str, Any]]:
    """Past incidents of `brand` most like `query`, best first, with root cause and fix."""
    with session_scope(engine) as session:
        rows = queries.fingerprints(session, brand, model=model, exclude=exclude)
        ranked = rank_similar(
            query,
            [r[0] for r in rows],
            stack_vectors([r[1] for r in rows]),
            [r[2] for r in rows],
            top=top,
        )
        lessons = queries.incident_lessons(session, [i for i, _ in ranked])
    return [{**lessons[i], "score": score} for i, score in ranked]


def describe_spike(engine: Engine, event_id: int, embedder: Embedder) -> None:
    """Give a stored spike its complaint themes and the past incidents it most resembles."""
    with session_scope(engine) as session:
        event = queries.spike_event(session, event_id)
    brand = event["brand"]
    found, embedded = posts_fingerprint(
        engine, brand, event["started_at"], event["ended_at"], embedder
    )
    if found is None:
        return
    texts, vectors, ids = embedded
    themes = find_themes(texts, vectors, ids=ids, max_k=5, stop_terms=(brand or "").split())
    fingerprint_missing(engine, brand, embedder)
    matches = similar_incidents(
        engine, found, brand=brand, model=embedder_name(embedder), exclude=event["incident_id"]
    )
    with session_scope(engine) as session:
        queries.set_spike_themes(session, event_id, [dataclasses.asdict(t) for t in themes])
        queries.set_spike_matches(session, event_id, matches)
