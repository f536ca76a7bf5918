"""The reads the workflows and the api share: incident scopes, timelines, negative posts, spike events, themes."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from flarewatch.analysis.kpis import label_counts
from flarewatch.analysis.spikes import Spike, SpikeParams, detect_spikes
from flarewatch.analysis.themes import Theme, find_themes
from flarewatch.config import load_settings
from flarewatch.domain import (
    INCIDENT_AFTERMATH,
    INCIDENT_LOOKBACK,
    LABELS,
    OTHER_LANGUAGE,
    IncidentRecord,
)
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.queries.detector import data_start

TIMELINE_COLUMNS = [*LABELS, OTHER_LANGUAGE, "unscored", "total", "scored", "negative_share"]


def resolve_model_version(engine: Engine, model_version: str | None = None) -> str:
    """Return `model_version`, else the one that scored most recently ('' when nothing is scored)."""
    if model_version:
        return model_version
    with session_scope(engine) as session:
        return queries.latest_model_version(session) or ""


def timeline(
    engine: Engine,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket_minutes: int = 15,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Posts per bucket by sentiment label, zero-filled, indexed by bucket start (UTC)."""
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        rows = queries.timeline(
            session,
            model_version=version,
            bucket_minutes=bucket_minutes,
            brand=brand,
            start=start,
            end=end,
        )
    return _pivot_buckets(rows, bucket_minutes, start, end)


def _pivot_buckets(
    rows: list[tuple[int, str, int]],
    bucket_minutes: int,
    start: datetime | None,
    end: datetime | None,
) -> pd.DataFrame:
    freq = f"{bucket_minutes}min"
    long = pd.DataFrame(rows, columns=["bucket", "label", "count"])
    long["bucket"] = pd.to_datetime(long["bucket"], unit="s", utc=True)
    wide = label_counts(long, "bucket")
    first = pd.Timestamp(start).floor(freq) if start else (wide.index.min() if len(wide) else None)
    last = pd.Timestamp(end).floor(freq) if end else (wide.index.max() if len(wide) else None)
    if first is not None and last is not None:
        wide = wide.reindex(pd.date_range(first, last, freq=freq, name="bucket"), fill_value=0)
    return wide


def negative_posts(
    engine: Engine,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    model_version: str | None = None,
    limit: int = 50,
) -> pd.DataFrame:
    """The newest negative posts with author, link and p_negative."""
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        rows = queries.negative_posts(
            session, model_version=version, brand=brand, start=start, end=end, limit=limit
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "created_at",
            "platform",
            "text",
            "url",
            "handle",
            "followers",
            "label",
            "p_negative",
        ],
    )


THEME_COLUMNS = ["label", "terms", "size", "share", "examples", "example_ids"]


class Embedder(Protocol):
    """Anything with the model's `embed(texts, batch_size) -> array` (one row per text)."""

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray: ...


@functools.lru_cache(maxsize=2)
def default_embedder(model: str | None = None) -> Embedder:
    """The configured sentiment model, loaded once, whose `embed` gives theme embeddings."""

    from flarewatch.models.transformer import load_scorer

    return load_scorer(model or load_settings().model)


def _themes(
    engine: Engine,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
    embedder: Embedder | None,
    limit: int,
    max_k: int,
    model_version: str | None,
    stop: list[str],
) -> list[Theme]:
    frame = negative_posts(
        engine, brand=brand, start=start, end=end, model_version=model_version, limit=limit
    )
    if frame.empty:
        return []
    texts = frame["text"].astype(str).tolist()
    vectors = (embedder or default_embedder()).embed(texts, batch_size=32)
    stop += (brand or "").lower().split()
    return find_themes(texts, vectors, ids=frame["id"].tolist(), max_k=max_k, stop_terms=stop)


LOOKBACK = INCIDENT_LOOKBACK
AFTERMATH = INCIDENT_AFTERMATH


INCIDENT_COLUMNS = ["id", "title", "brand", "severity", "status", "opened_at", "resolved_at"]


def incident_row(incident: IncidentRecord) -> dict[str, Any]:
    """An incident's `INCIDENT_COLUMNS` as a dict."""
    return {column: getattr(incident, column) for column in INCIDENT_COLUMNS}


def get_incident(engine: Engine, incident_id: int) -> IncidentRecord:
    """Return one incident, or NotFoundError naming the id."""
    with session_scope(engine) as session:
        return queries.find_incident(session, incident_id)


def incident_window(
    engine: Engine,
    incident: IncidentRecord,
    lookback: timedelta = LOOKBACK,
    after: timedelta = AFTERMATH,
) -> tuple[datetime, datetime]:
    """The time range an incident is judged on: a day before it opened to a day after it closed."""
    start = incident.opened_at - lookback
    if incident.resolved_at is not None:
        return start, incident.resolved_at + after
    with session_scope(engine) as session:
        _, last = queries.time_range(session, incident.brand)
    now = datetime.now(UTC)
    return start, max(now, last) + timedelta(seconds=1) if last else now


@dataclass(frozen=True)
class IncidentScope:
    """An incident with the window and model version its queries run on, resolved once."""

    incident: IncidentRecord
    start: datetime
    end: datetime
    model_version: str

    @property
    def brand(self) -> str | None:
        """The brand the incident is judged on."""
        return self.incident.brand

    def window(self) -> dict[str, Any]:
        """Keyword arguments of the storage queries over this scope."""
        return {
            "model_version": self.model_version,
            "brand": self.brand,
            "start": self.start,
            "end": self.end,
        }


def incident_scope(
    engine: Engine, incident_id: int, model_version: str | None = None
) -> IncidentScope:
    """Resolve an incident's brand, window (`incident_window`) and model version once."""
    incident = get_incident(engine, incident_id)
    start, end = incident_window(engine, incident)
    return IncidentScope(incident, start, end, resolve_model_version(engine, model_version))


# The seasonal baseline compares each bucket with the same time on up to a week of earlier days.
SPIKE_HISTORY = timedelta(days=7)


def spikes(frame: pd.DataFrame, params: SpikeParams | None = None) -> list[Spike]:
    """Detect spikes in negative volume and negative share in a `timeline` frame."""
    return detect_spikes(frame["negative"], params, totals=frame["scored"])


def window_spikes(
    engine: Engine,
    *,
    brand: str | None,
    start: datetime,
    end: datetime,
    bucket_minutes: int = 15,
    history: timedelta = SPIKE_HISTORY,
    model_version: str | None = None,
) -> list[Spike]:
    """Spikes overlapping [start, end), judged against `history` before it (seasonal baseline).

    An analyst's retrospective view: it recomputes, never alerts, and starts at the brand's
    data start, so the hours before collection began never read as calm.
    """
    began = data_began(engine, brand)
    frame = timeline(
        engine,
        brand=brand,
        start=max(start - history, began) if began else start - history,
        end=end,
        bucket_minutes=bucket_minutes,
        model_version=model_version,
    )
    return [s for s in spikes(frame) if s.end >= pd.Timestamp(start).floor(f"{bucket_minutes}min")]


SPIKE_EVENT_COLUMNS = list(queries.SPIKE_EVENT_FIELDS)


def spike_events(
    engine: Engine,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """Stored spike events (early warnings and spikes during incidents), newest first."""
    with session_scope(engine) as session:
        rows = queries.spike_events(session, brand=brand, start=start, end=end)
    return pd.DataFrame(rows, columns=SPIKE_EVENT_COLUMNS)


def data_began(engine: Engine, brand: str | None) -> datetime | None:
    """When the brand's data began: its first collected post (None before any)."""
    with session_scope(engine) as session:
        return data_start(session, brand)
