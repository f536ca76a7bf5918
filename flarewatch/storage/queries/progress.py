"""Score progress: where each model's pending posts begin, advanced by scorers, lowered by drops."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select, update
from sqlalchemy.orm import Session

from flarewatch.storage.queries._sql import as_utc, insert, scored_by
from flarewatch.storage.schema import Post, ScoreProgress, utcnow

# Longer than any transaction that stores posts stays open (collectors commit page by page;
# docs/postgres.md ends idle transactions after 5 minutes): a post id taken before a mark this
# old is committed or gone.
SETTLE = timedelta(minutes=10)
# How often a scorer looks again from the first post, for a score lost around Flarewatch.
SWEEP_EVERY = timedelta(hours=1)


def unscored_anywhere(model_version: str) -> ColumnElement[bool]:
    """A post the model still has to score (neither purged nor our own), wherever it is."""
    # NOT EXISTS, never NOT IN (subquery): PostgreSQL cannot turn NOT IN into an anti-join (NULL
    # semantics), and once the scored ids outgrow work_mem it rescans them for every post.
    return and_(
        Post.purged_at.is_(None),
        Post.is_own.is_(False),
        ~exists().where(scored_by(model_version)),
    )


def unscored(session: Session, model_version: str) -> ColumnElement[bool]:
    """`unscored_anywhere`, from the model's progress on: what the pending queries use.

    The progress is read first and bound as a value: as a subquery PostgreSQL could not know
    how few posts lie above it, and hashed every score of the model for the anti-join.
    """
    stmt = select(ScoreProgress.scored_below).where(ScoreProgress.model_version == model_version)
    return and_(Post.id >= (session.scalar(stmt) or 0), unscored_anywhere(model_version))


def advance_score_progress(
    session: Session,
    model_version: str,
    *,
    now: datetime | None = None,
    settle: timedelta = SETTLE,
    sweep_every: timedelta = SWEEP_EVERY,
) -> int:
    """Move the model's progress up to its first unscored post; returns the new progress.

    It never passes a mark taken less than `settle` ago (a post with a lower id may still be
    committing), and every `sweep_every` it looks from the first post again.
    """
    now = now or utcnow()
    row = _locked_progress(session, model_version)
    sweep = row.swept_at is None or now - as_utc(row.swept_at) >= sweep_every
    start = 0 if sweep else row.scored_below
    first = session.scalar(
        select(Post.id)
        .where(Post.id >= start, unscored_anywhere(model_version))
        .order_by(Post.id)
        .limit(1)
    )
    settled = row.mark is not None and now - as_utc(row.mark_at) >= settle
    ceiling = row.mark if settled else row.scored_below
    row.scored_below = ceiling if first is None else min(int(first), int(ceiling))
    if settled or row.mark is None:
        row.mark = int(session.scalar(select(func.max(Post.id))) or 0) + 1
        row.mark_at = now
    if sweep:
        row.swept_at = now
    return int(row.scored_below)


def _locked_progress(session: Session, model_version: str) -> Any:
    # Scorers advancing and collectors lowering take this row in turn.
    stmt = insert(session, ScoreProgress.__table__).values(
        model_version=model_version, scored_below=0
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["model_version"]))
    query = select(ScoreProgress).where(ScoreProgress.model_version == model_version)
    return session.scalars(query.with_for_update().execution_options(populate_existing=True)).one()


def lower_score_progress(session: Session, post_ids: Sequence[int]) -> None:
    """These posts lost their scores: every model's pending posts begin at them again."""
    if post_ids:
        lowest = min(post_ids)
        stmt = update(ScoreProgress).where(ScoreProgress.scored_below > lowest)
        session.execute(stmt.values(scored_below=lowest))
