"""Glue between collectors, storage and models: import posts and score what is unscored."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flarewatch.domain import OTHER_LANGUAGE
from flarewatch.models.base import SentimentPrediction, SentimentScorer
from flarewatch.models.language import detect_language, is_covered, model_languages
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.schema import utcnow

SCORE_CHUNK = 512
LEASE_SECONDS = 300.0
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class WorkerOptions:
    """How a scoring worker shares posts with others: its name, lease length and idle poll."""

    name: str
    lease_seconds: float = LEASE_SECONDS
    poll_seconds: float = POLL_SECONDS


def default_worker_name() -> str:
    """A name unique to this process on this host, stored with each claim."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _languages(engine: Engine, pending: Sequence[tuple[int, str]]) -> dict[int, str | None]:
    """Each post's language: the platform's tag when stored, else detected (and then stored)."""
    with session_scope(engine) as session:
        stored = queries.post_languages(session, [pid for pid, _ in pending])
        found = {pid: detect_language(text, stored.get(pid)) for pid, text in pending}
        queries.set_post_languages(
            session, {pid: lang for pid, lang in found.items() if lang and lang != stored.get(pid)}
        )
    return found


def _score_row(post_id: int, prediction: SentimentPrediction | None) -> dict[str, Any]:
    if prediction is None:
        return {
            "post_id": post_id,
            "label": OTHER_LANGUAGE,
            "p_negative": 0.0,
            "p_neutral": 0.0,
            "p_positive": 0.0,
        }
    return {
        "post_id": post_id,
        "label": prediction.label,
        "p_negative": prediction.p_negative,
        "p_neutral": prediction.p_neutral,
        "p_positive": prediction.p_positive,
    }


def _rows(
    engine: Engine, pending: Sequence[tuple[int, str]], scorer: SentimentScorer, batch_size: int
) -> list[dict[str, Any]]:
    """Score rows for `pending`; posts in a language the model is not trusted on are marked so."""
    languages, trusted = _languages(engine, pending), model_languages(scorer)
    covered = [(pid, text) for pid, text in pending if is_covered(languages[pid], trusted)]
    texts = [text for _, text in covered]
    predictions = scorer.predict(texts, batch_size=batch_size) if texts else []
    by_id = dict(zip([pid for pid, _ in covered], predictions, strict=True))
    return [_score_row(pid, by_id.get(pid)) for pid, _ in pending]


def score_pending(
    engine: Engine,
    scorer: SentimentScorer,
    *,
    batch_size: int = 32,
    chunk: int = SCORE_CHUNK,
    progress: Callable[[int], None] | None = None,
    worker: WorkerOptions | None = None,
    max_chunks: int | None = None,
) -> int:
    """Score every post `scorer` has not scored yet, committing chunk by chunk; returns the count.

    Args:
        engine: The database.
        scorer: The model; its `version` names the stored scores.
        batch_size: Posts per model batch.
        chunk: Posts read, scored and committed together.
        progress: Called with the number of posts after each committed chunk.
        worker: Share the work with other workers through leased claims; the worker returns
            once every post is scored, by it or by others (a dead worker's claims are taken
            over when their lease runs out).
        max_chunks: Return after this many chunks even if posts are left (a worker that must
            also do other work while posts keep arriving).
    """
    if worker is not None:
        return _score_as_worker(engine, scorer, worker, (batch_size, chunk, max_chunks), progress)

    def fetch() -> list[tuple[int, str]]:
        _advance(engine, scorer.version)
        with session_scope(engine) as session:
            return list(queries.unscored_posts(session, scorer.version, limit=chunk))

    def save(session: Session, rows: list[dict[str, Any]]) -> None:
        queries.save_scores(session, scorer.version, rows)

    return _score_loop(engine, scorer, batch_size, progress, fetch, save)


def _score_loop(
    engine: Engine,
    scorer: SentimentScorer,
    batch_size: int,
    progress: Callable[[int], None] | None,
    fetch: Callable[[], list[tuple[int, str]]],
    save: Callable[[Session, list[dict[str, Any]]], None],
) -> int:
    """Fetch, score and save chunk by chunk until `fetch` returns nothing; returns the count."""
    done = 0
    while pending := fetch():
        rows = _rows(engine, pending, scorer, batch_size)
        with session_scope(engine) as session:
            save(session, rows)
        done += len(pending)
        if progress:
            progress(len(pending))
    return done


def _advance(engine: Engine, version: str) -> None:
    """Let the pending queries start at the model's first unscored post."""
    with session_scope(engine) as session:
        queries.advance_score_progress(session, version)


def _claim(engine: Engine, version: str, worker: WorkerOptions, chunk: int) -> Any:
    _advance(engine, version)
    lease_until = utcnow() + timedelta(seconds=worker.lease_seconds)
    with session_scope(engine) as session:
        return queries.claim_unscored(
            session, version, worker.name, limit=chunk, lease_until=lease_until
        )


def _wait_for_others(engine: Engine, version: str, worker: WorkerOptions) -> bool:
    """Sleep while other workers hold live claims; False once every post is scored."""
    with session_scope(engine) as session:
        expiry = queries.next_claim_expiry(session, version)
        # A lease can run out between the claim and this check: then its posts are claimable.
        if expiry is None and not queries.count_unscored(session, version):
            return False
    until_expiry = 0.0 if expiry is None else (expiry - utcnow()).total_seconds()
    time.sleep(min(max(until_expiry, 0.0), worker.poll_seconds) + 0.01)
    return True


def _score_as_worker(
    engine: Engine,
    scorer: SentimentScorer,
    worker: WorkerOptions,
    sizes: tuple[int, int, int | None],
    progress: Callable[[int], None] | None,
) -> int:
    batch_size, chunk, max_chunks = sizes
    chunks = [0]

    def fetch() -> list[tuple[int, str]]:
        if max_chunks is not None and chunks[0] >= max_chunks:
            return []
        chunks[0] += 1
        while not (pending := _claim(engine, scorer.version, worker, chunk)):
            # A bounded pass does not wait on others' claims: its caller comes back soon.
            if max_chunks is not None or not _wait_for_others(engine, scorer.version, worker):
                return []
        return list(pending)

    def save(session: Session, rows: list[dict[str, Any]]) -> None:
        queries.save_claimed_scores(session, scorer.version, rows)

    try:
        return _score_loop(engine, scorer, batch_size, progress, fetch, save)
    finally:
        # A clean exit (Ctrl-C included) hands unfinished claims back at once, not at expiry.
        with session_scope(engine) as session:
            queries.release_claims(session, scorer.version, worker.name)


def count_pending(engine: Engine, scorer: SentimentScorer) -> int:
    """Count posts `scorer` has not scored yet."""
    with session_scope(engine) as session:
        return queries.count_unscored(session, scorer.version)


def wait_for_scores(
    engine: Engine, scorer: SentimentScorer, end: datetime, *, within: timedelta, timeout: float
) -> bool:
    """Wait (at most `timeout` s) until every post created in the `within` before `end` is scored.

    Returns:
        Whether they all were scored in time.
    """
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(engine) as session:
            left = queries.count_unscored_between(session, scorer.version, end - within, end)
        if not left:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
