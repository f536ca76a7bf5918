"""Reviewers' label overrides, which win over the model's labels everywhere."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    delete,
    select,
)
from sqlalchemy.orm import Session

from flarewatch.domain import (
    LABELS,
    NotFoundError,
    check_choice,
)
from flarewatch.storage.queries._sql import upsert
from flarewatch.storage.schema import (
    LabelOverride,
    Post,
    SentimentScore,
    utcnow,
)


def set_label_override(
    session: Session,
    post_id: int,
    label: str,
    *,
    labelled_by: str | None = None,
    note: str | None = None,
) -> None:
    """Record (or replace) a person's label for a post; model scores are left untouched.

    Raises:
        ValueError: `label` is not negative, neutral or positive.
        NotFoundError: No post has that id.
    """

    check_choice("label", label, LABELS)
    if session.get(Post, post_id) is None:
        raise NotFoundError(f"no post with id {post_id}")
    row = {
        "post_id": post_id,
        "label": label,
        "labelled_by": labelled_by,
        "note": note,
        "labelled_at": utcnow(),
    }
    upsert(
        session,
        LabelOverride.__table__,
        [row],
        ("post_id",),
        ("label", "labelled_by", "note", "labelled_at"),
    )


def clear_label_override(session: Session, post_id: int) -> bool:
    """Remove a post's human label; returns whether there was one."""
    result = session.execute(delete(LabelOverride).where(LabelOverride.post_id == post_id))
    return bool(getattr(result, "rowcount", 0))


def label_overrides(session: Session, model_version: str | None = None) -> list[dict[str, Any]]:
    """Every human label with its post's text (purged posts left out), oldest label first.

    With `model_version`, each row also carries that model's label (`model_label`, or None).
    """
    model_label = (
        select(SentimentScore.label)
        .where(
            SentimentScore.post_id == LabelOverride.post_id,
            SentimentScore.model_version == model_version,
        )
        .scalar_subquery()
    )
    stmt = (
        select(
            LabelOverride.post_id,
            Post.text,
            LabelOverride.label,
            LabelOverride.labelled_by,
            LabelOverride.labelled_at,
            model_label.label("model_label"),
        )
        .join(Post, Post.id == LabelOverride.post_id)
        .where(Post.purged_at.is_(None))
        .order_by(LabelOverride.labelled_at, LabelOverride.post_id)
    )
    return [dict(row._mapping) for row in session.execute(stmt)]
