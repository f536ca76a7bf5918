"""Posts, authors and collector cursors: idempotent saves and lookups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from flarewatch.domain import RawAuthor, RawPost
from flarewatch.storage.queries._sql import (
    ENGAGEMENT,
    UPSERT_CHUNK,
    as_utc,
    check_fits,
    chunks,
    clean_text,
    executemany_returning,
    in_window,
    insert,
    key_chunks,
    upsert,
)
from flarewatch.storage.queries.facets import (
    count_new_posts,
    count_score_changes,
    move_languages,
    stored_facets,
)
from flarewatch.storage.queries.incident_authors import tracking_incident_authors
from flarewatch.storage.queries.progress import lower_score_progress
from flarewatch.storage.schema import (
    Author,
    CollectorCursor,
    Post,
    SentimentScore,
    utcnow,
)

POST_UPDATE_COLUMNS = (
    "like_count",
    "repost_count",
    "reply_count",
    "quote_count",
    "text",
    "url",
    "removed",
)


AUTHOR_UPDATE_COLUMNS = ("handle", "display_name", "followers", "verified", "updated_at")


@dataclass(frozen=True)
class SaveResult:
    """How many posts a save touched and how many of them were new."""

    received: int
    inserted: int
    text_changed: int = 0
    duplicates: int = 0


def _author_row(author: RawAuthor) -> dict[str, Any]:
    return {
        "platform": author.platform,
        "external_id": author.external_id,
        "handle": clean_text(author.handle),
        "display_name": clean_text(author.display_name),
        "followers": author.followers,
        "verified": author.verified,
        "updated_at": utcnow(),
    }


def save_authors(session: Session, authors: Iterable[RawAuthor]) -> dict[tuple[str, str], int]:
    """Upsert authors and return their ids keyed by (platform, external_id)."""
    unique = {(a.platform, a.external_id): a for a in authors}
    if not unique:
        return {}
    rows = [_author_row(a) for a in unique.values()]
    check_fits(Author.__table__, rows)
    upsert(session, Author.__table__, rows, ("platform", "external_id"), AUTHOR_UPDATE_COLUMNS)
    return author_ids(session, list(unique))


def author_ids(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Map (platform, external_id) pairs to author ids."""
    found: dict[tuple[str, str], int] = {}
    for platform in {p for p, _ in keys}:
        ext_ids = [e for p, e in keys if p == platform]
        for chunk in chunks(ext_ids):
            stmt = select(Author.external_id, Author.id).where(
                Author.platform == platform, Author.external_id.in_(chunk)
            )
            found.update({(platform, ext): aid for ext, aid in session.execute(stmt)})
    return found


def _post_row(post: RawPost, author_id: int | None) -> dict[str, Any]:
    return {
        "platform": post.platform,
        "external_id": post.external_id,
        "author_id": author_id,
        "brand": clean_text(post.brand),
        "text": clean_text(post.text),
        "created_at": post.created_at,
        "collected_at": utcnow(),
        "url": clean_text(post.url),
        "language": clean_text(post.language),
        "like_count": post.like_count,
        "repost_count": post.repost_count,
        "reply_count": post.reply_count,
        "quote_count": post.quote_count,
        "reply_to": clean_text(post.reply_to),
        "raw": post.raw or None,
        "quote_of": clean_text(post.quote_of),
        "removed": post.removed,
        "is_own": post.is_own,
    }


def count_posts(session: Session, brand: str | None = None) -> int:
    """Count stored posts, optionally for one brand."""
    # count(*), not count(id): the id is in no index but the primary key, so counting it reads
    # the table; PostgreSQL answers count(*) from any covering index alone.
    stmt = select(func.count()).select_from(Post)
    if brand is not None:
        stmt = stmt.where(Post.brand == brand)
    return int(session.scalar(stmt) or 0)


def _existing_posts(
    session: Session, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str | None]]:
    """(id, text) of the stored posts among `keys`; a purged post's text is None."""
    found: dict[tuple[str, str], tuple[int, str | None]] = {}
    for platform, condition in key_chunks(keys):
        stmt = select(Post.external_id, Post.id, Post.text, Post.purged_at).where(condition)
        for ext, post_id, text, purged_at in session.execute(stmt):
            found[(platform, ext)] = (post_id, None if purged_at is not None else text)
    return found


def _delete_scores(session: Session, post_ids: list[int]) -> None:
    """Delete every model's scores of these posts and take them out of the rollups."""
    with tracking_incident_authors(session, post_ids):
        count_score_changes(session, [], stored_facets(session, post_ids))
        for chunk in chunks(post_ids):
            session.execute(delete(SentimentScore).where(SentimentScore.post_id.in_(chunk)))
    lower_score_progress(session, post_ids)


# Sorts after every stored post's id.
NEW_POST = 2**63


def save_posts(session: Session, posts: Iterable[RawPost]) -> SaveResult:
    """Idempotently upsert posts and their authors; the last copy of a duplicate wins.

    A post stored again with different text keeps the new text and loses its model scores, so
    it is scored again (reviewer labels stay). Posts already purged by retention keep their
    purged state: collecting them again does not bring their text back.
    """
    given = list(posts)
    unique = {(p.platform, p.external_id): p for p in given}
    if not unique:
        return SaveResult(0, 0)
    rows = [_post_row(p, None) for p in unique.values()]
    check_fits(Post.__table__, rows)
    existing = _existing_posts(session, list(unique))
    new_text = {(r["platform"], r["external_id"]): r["text"] for r in rows}
    changed = [
        post_id
        for key, (post_id, old) in existing.items()
        if old is not None and old != new_text[key]
    ]
    ids = save_authors(session, [p.author for p in unique.values() if p.author])
    for row, post in zip(rows, unique.values(), strict=True):
        if post.author:
            row["author_id"] = ids.get((post.author.platform, post.author.external_id))
    # Stored posts are updated in id order, the order scorers lock them in (rollups.lock_posts).
    rows.sort(key=lambda r: existing.get((r["platform"], r["external_id"]), (NEW_POST, None))[0])
    count_new_posts(session, _store_posts(session, rows, set(existing)))
    # A score judged the old text: without it the post is scored again, on what it says now.
    _delete_scores(session, changed)
    _refresh_score_engagement(session, existing)
    _mark_own(session, {k for k, p in unique.items() if p.is_own} & set(existing))
    return SaveResult(
        len(unique), len(unique) - len(existing), len(changed), len(given) - len(unique)
    )


def _upsert_posts(session: Session, rows: list[dict[str, Any]]) -> None:
    upsert(
        session,
        Post.__table__,
        rows,
        ("platform", "external_id"),
        POST_UPDATE_COLUMNS,
        where=Post.__table__.c.purged_at.is_(None),
    )


def _store_posts(
    session: Session, rows: list[dict[str, Any]], existing: set[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Upsert posts; returns the rows this transaction inserted, for the post rollup.

    SQLite has one writer, so a post not found before is one we insert. On PostgreSQL another
    transaction may insert it meanwhile: new posts go in with DO NOTHING ... RETURNING, and only
    those that then already existed are updated instead.
    """
    new = [r for r in rows if (r["platform"], r["external_id"]) not in existing]
    if session.get_bind().dialect.name != "postgresql" or not new:
        _upsert_posts(session, rows)
        return new
    _upsert_posts(session, rows[: len(rows) - len(new)])
    table = Post.__table__
    stmt = insert(session, table).on_conflict_do_nothing(index_elements=["platform", "external_id"])
    stmt = stmt.returning(table.c.platform, table.c.external_id)
    inserted = {tuple(key) for key in executemany_returning(session, stmt, table, new)}
    _upsert_posts(session, [r for r in new if (r["platform"], r["external_id"]) not in inserted])
    return [r for r in new if (r["platform"], r["external_id"]) in inserted]


def _mark_own(session: Session, keys: set[tuple[str, str]]) -> None:
    """Mark posts first saved as anyone's as our own, and drop their scores from every rate.

    Never the other way: a search that does not know our accounts must not unmark them.
    """
    for _, condition in key_chunks(keys):
        session.execute(update(Post).where(condition).values(is_own=True))
        _delete_scores(session, list(session.scalars(select(Post.id).where(condition))))


def mark_removed(session: Session, platform: str, external_ids: Sequence[str]) -> int:
    """Mark stored posts their authors deleted as removed and drop their text; returns how many."""
    done = 0
    for _, condition in key_chunks([(platform, e) for e in external_ids]):
        stmt = update(Post).where(condition, Post.removed.is_(False)).values(removed=True, text="")
        done += session.execute(stmt).rowcount or 0  # type: ignore[attr-defined]
    return done


def get_cursor(session: Session, source: str, query: str) -> str | None:
    """Return where collection of (source, query) left off, if anywhere."""
    row = session.get(CollectorCursor, (source, query))
    return row.cursor if row else None


def set_cursor(session: Session, source: str, query: str, cursor: str | None) -> None:
    """Remember where collection of (source, query) left off."""
    upsert(
        session,
        CollectorCursor.__table__,
        [{"source": source, "query": query, "cursor": cursor, "updated_at": utcnow()}],
        ("source", "query"),
        ("cursor", "updated_at"),
    )


def _post_windows(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Brand, time, author and engagement of each post, copied onto its scores."""
    found: dict[int, dict[str, Any]] = {}
    for chunk in chunks(ids):
        stmt = select(
            Post.id,
            Post.brand,
            Post.created_at,
            Post.author_id,
            ENGAGEMENT.label("engagement"),
        ).where(Post.id.in_(chunk))
        for row in session.execute(stmt):
            found[row.id] = {k: v for k, v in row._mapping.items() if k != "id"}
    return found


def _refresh_score_engagement(
    session: Session, existing: Mapping[tuple[str, str], tuple[int, str | None]]
) -> None:
    """Copy the new engagement of posts collected again onto their scores."""
    current = select(ENGAGEMENT).where(Post.id == SentimentScore.post_id).scalar_subquery()
    with tracking_incident_authors(session, [post_id for post_id, _ in existing.values()]):
        for _, condition in key_chunks(set(existing)):
            posts = select(Post.id).where(condition)
            session.execute(
                update(SentimentScore)
                .where(SentimentScore.post_id.in_(posts))
                .values(engagement=current)
            )


def time_range(
    session: Session, brand: str | None = None
) -> tuple[datetime | None, datetime | None]:
    """Return the first and last post time (for one brand, or all posts)."""
    # Two scalar subqueries: SQLite answers a lone min() or max() from the index in one step,
    # but both in one select scan every post of the brand.
    first_q = in_window(select(func.min(Post.created_at)), brand, None, None).scalar_subquery()
    last_q = in_window(select(func.max(Post.created_at)), brand, None, None).scalar_subquery()
    first, last = session.execute(select(first_q, last_q)).one()
    return as_utc(first), as_utc(last)


def brands(session: Session) -> list[str]:
    """List the brands posts were collected for."""
    # One index probe per brand (a loose index scan): DISTINCT reads every post on PostgreSQL.
    found: list[str] = []
    while True:
        after = Post.brand > found[-1] if found else Post.brand.is_not(None)
        brand = session.scalar(select(func.min(Post.brand)).where(after))
        if brand is None:
            return found
        found.append(str(brand))


def post_languages(session: Session, post_ids: Sequence[int]) -> dict[int, str | None]:
    """Return the stored language tag of each post."""
    found: dict[int, str | None] = {}
    for chunk in chunks(post_ids, UPSERT_CHUNK):
        stmt = select(Post.id, Post.language).where(Post.id.in_(chunk))
        found.update({int(pid): lang for pid, lang in session.execute(stmt)})
    return found


def set_post_languages(session: Session, languages: Mapping[int, str]) -> None:
    """Store detected languages (ISO 639-1 codes) on posts."""
    if languages:
        move_languages(session, languages)
        rows = [{"pid": pid, "language": lang} for pid, lang in languages.items()]
        stmt = (
            update(Post).where(Post.id == bindparam("pid")).values(language=bindparam("language"))
        )
        session.connection().execute(stmt, rows)
