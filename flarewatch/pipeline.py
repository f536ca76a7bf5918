"""Glue between collectors, storage and models: import posts and score what is unscored."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from flarewatch.models.base import SentimentScorer
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

SCORE_CHUNK = 512


def score_pending(
    engine: Engine,
    scorer: SentimentScorer,
    *,
    batch_size: int = 32,
    chunk: int = SCORE_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Score every post `scorer` has not scored yet, committing chunk by chunk; returns the count."""
    done = 0
    while True:
        with session_scope(engine) as session:
            pending = queries.unscored_posts(session, scorer.version, limit=chunk)
        if not pending:
            return done
        predictions = scorer.predict([text for _, text in pending], batch_size=batch_size)
        with session_scope(engine) as session:
            queries.save_scores(
                session,
                scorer.version,
                [
                    {
                        "post_id": pid,
                        "label": p.label,
                        "p_negative": p.p_negative,
                        "p_neutral": p.p_neutral,
                        "p_positive": p.p_positive,
                    }
                    for (pid, _), p in zip(pending, predictions, strict=True)
                ],
            )
        done += len(pending)
        if progress:
            progress(len(pending))


def count_pending(engine: Engine, scorer: SentimentScorer) -> int:
    """Count posts `scorer` has not scored yet."""
    with session_scope(engine) as session:
        return queries.count_unscored(session, scorer.version)
