"""Incident memory as pure functions: fingerprints, similar past incidents, timelines, lead time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from flarewatch.analysis.themes import c_tf_idf, clean
from flarewatch.domain import IncidentRecord, TimelineEntry

# How much shared top terms add to the cosine of the mean embeddings when ranking.
TERM_WEIGHT = 0.15
FINGERPRINT_TERMS = 10


@dataclass(frozen=True)
class Fingerprint:
    """What an incident's complaints were about: unit mean embedding and top terms."""

    vector: np.ndarray
    terms: list[str]
    posts: int

    def to_bytes(self) -> bytes:
        """The vector as float32 bytes, for storage."""
        return np.asarray(self.vector, dtype=np.float32).tobytes()


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def fingerprint(
    texts: Sequence[str], embeddings: np.ndarray, *, stop_terms: Sequence[str] = ()
) -> Fingerprint | None:
    """The fingerprint of a set of negative posts (None without posts)."""
    if len(texts) == 0:
        return None
    vectors = _unit(np.asarray(embeddings, dtype=float))
    centre = _unit(vectors.mean(axis=0))
    terms = c_tf_idf([" ".join(clean(t) for t in texts)], stop_terms, FINGERPRINT_TERMS)[0]
    return Fingerprint(vector=centre, terms=terms, posts=len(texts))


def _term_overlap(a: Sequence[str], b: Sequence[str]) -> float:
    left, right = set(a), set(b)
    return len(left & right) / len(left | right) if left and right else 0.0


def rank_similar(
    query: Fingerprint,
    ids: Sequence[int],
    matrix: np.ndarray,
    terms: Sequence[Sequence[str]],
    *,
    top: int = 3,
) -> list[tuple[int, float]]:
    """The `top` ids (rows of `matrix`, with their `terms`) most like `query`, best first.

    Score: cosine of the mean embeddings plus `TERM_WEIGHT` times the Jaccard overlap of the
    top terms. Nothing is returned when the vectors have another dimension (another model).
    """
    if len(ids) == 0 or matrix.ndim != 2 or matrix.shape[1] != len(query.vector):
        return []
    cosine = _unit(matrix) @ _unit(np.asarray(query.vector, dtype=matrix.dtype))
    overlap = np.array([_term_overlap(query.terms, t or []) for t in terms])
    scores = cosine + TERM_WEIGHT * overlap
    order = np.argsort(-scores, kind="stable")[:top]
    return [(int(ids[i]), round(float(scores[i]), 4)) for i in order]


def stack_vectors(blobs: Sequence[bytes]) -> np.ndarray:
    """Stored float32 fingerprints of one model as one (n, dim) matrix."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)


def build_timeline(
    incident: IncidentRecord, signals: dict[str, datetime | None], manual: Sequence[TimelineEntry]
) -> list[TimelineEntry]:
    """An incident's timeline: Flarewatch's own events and people's entries, oldest first.

    `signals` may hold `first_signal` (first bucket above baseline), `first_warning` (first
    early warning) and `first_update` (first public status update).
    """
    said = {
        "first_signal": "First social signal: negative posts above baseline",
        "first_warning": "Flarewatch early warning: possible incident",
        "first_update": "First public status update",
    }
    events = [TimelineEntry(at, said[key], "flarewatch") for key, at in signals.items() if at]
    events.append(TimelineEntry(incident.opened_at, "Incident declared (opened)", "flarewatch"))
    if incident.resolved_at:
        events.append(TimelineEntry(incident.resolved_at, "Incident resolved", "flarewatch"))
    if incident.archived_at:
        events.append(TimelineEntry(incident.archived_at, "Incident archived", "flarewatch"))
    return sorted([*events, *manual], key=lambda e: (e.at, e.source != "flarewatch"))


def lead_minutes(first_signal: datetime | None, declared: datetime) -> float | None:
    """Minutes customers were talking before the incident was declared (None without a signal)."""
    if first_signal is None:
        return None
    return round((declared - first_signal).total_seconds() / 60, 1)


def lead_sentence(minutes: float | None) -> str:
    """The report's one line about who noticed first."""
    if minutes is None:
        return "No social signal was seen before the incident was declared."
    if minutes > 0:
        return f"Customers were talking {minutes:.0f} minutes before we declared it."
    return f"We declared it {-minutes:.0f} minutes before customers were talking."


def alert_precision(feedback: pd.DataFrame) -> pd.DataFrame:
    """Useful, noise and precision per brand and month from (brand, started_at, feedback) rows."""
    columns = ["brand", "month", "useful", "noise", "precision"]
    if feedback.empty:
        return pd.DataFrame(columns=columns)
    frame = feedback.assign(
        brand=feedback["brand"].fillna("(all brands)"),
        month=pd.to_datetime(feedback["started_at"], utc=True).dt.strftime("%Y-%m"),
    )
    counts = pd.crosstab([frame["brand"], frame["month"]], frame["feedback"])
    counts = counts.reindex(columns=["useful", "noise"], fill_value=0)
    counts["precision"] = (counts["useful"] / (counts["useful"] + counts["noise"])).round(3)
    return counts.reset_index()[columns]
