"""Retention: purge old post text and profiles while keeping counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    exists,
    select,
    update,
)
from sqlalchemy.orm import Session

from flarewatch.storage.queries._sql import chunks
from flarewatch.storage.schema import (
    Author,
    Outreach,
    Post,
    utcnow,
)


@dataclass(frozen=True)
class PurgeResult:
    """How many posts and authors a purge stripped of personal data."""

    posts: int
    authors: int


def purge_before(session: Session, before: datetime, now: datetime | None = None) -> PurgeResult:
    """Remove text and profile data of posts created before `before` and of their authors.

    Post rows, their scores and ids stay, so counts and sentiment over time are unchanged. An
    author is purged only when none of their posts is on or after `before`; their platform id is
    replaced by a placeholder and support's notes about them are dropped.
    """
    now = now or utcnow()
    posts = session.execute(
        update(Post)
        .where(Post.created_at < before, Post.purged_at.is_(None))
        .values(text="", url=None, raw=None, reply_to=None, purged_at=now)
    )
    # NOT EXISTS, not NOT IN: an anti-join on both databases, never a rescan per author.
    recent = exists().where(Post.author_id == Author.id, Post.created_at >= before)
    stale = select(Author.id).where(Author.purged_at.is_(None), ~recent)
    stale_ids = list(session.scalars(stale))
    for chunk in chunks(stale_ids):
        _purge_authors(session, chunk, now)
    return PurgeResult(int(posts.rowcount or 0), len(stale_ids))  # type: ignore[attr-defined]


def _purge_authors(session: Session, ids: list[int], now: datetime) -> None:
    from sqlalchemy import String, cast, literal

    placeholder = literal("purged-") + cast(Author.id, String)
    session.execute(
        update(Author)
        .where(Author.id.in_(ids))
        .values(
            external_id=placeholder,
            handle=None,
            display_name=None,
            followers=None,
            verified=False,
            purged_at=now,
        )
    )
    session.execute(
        update(Outreach).where(Outreach.author_id.in_(ids)).values(note=None, assignee=None)
    )
