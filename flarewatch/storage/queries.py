"""Every database read and write of Flarewatch, one named function each."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from flarewatch.collectors.base import RawAuthor, RawPost
from flarewatch.storage.schema import (
    OTHER_LANGUAGE,
    OUTREACH_STATUSES,
    SEVERITIES,
    Author,
    CollectorCursor,
    Incident,
    LabelOverride,
    Outreach,
    Post,
    SentimentScore,
    UTCDateTime,
    utcnow,
)

UPSERT_CHUNK = 5000
LOOKUP_CHUNK = 500
FEW_AUTHORS = 5 * LOOKUP_CHUNK
_S = TypeVar("_S", bound=Select)
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
_UTC_DATETIME = UTCDateTime()


class NotFoundError(LookupError):
    """A row the caller named does not exist."""


@dataclass(frozen=True)
class SaveResult:
    """How many posts a save touched and how many of them were new."""

    received: int
    inserted: int


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upsert is not implemented for {dialect}")


def _upsert(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    where: ColumnElement[bool] | None = None,
) -> None:
    if not rows:
        return
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}, where=where
    )
    if not _executemany_positional(session, stmt, table, rows):
        # One cached statement run executemany-style: compiling a multi-VALUES statement per
        # chunk cost ten times more than the inserts themselves.
        for start in range(0, len(rows), UPSERT_CHUNK):
            session.execute(stmt, rows[start : start + UPSERT_CHUNK])


def _executemany_positional(
    session: Session, stmt: Any, table: Any, rows: list[dict[str, Any]]
) -> bool:
    """Run `stmt` for `rows` as one driver executemany with tuples; False if not applicable.

    SQLAlchemy's per-row parameter handling was half of SQLite's bulk-ingest time. Values still
    go through each column type's own bind processor, so they are stored exactly alike.
    """
    connection = session.connection()
    keys = list(rows[0])
    compiled = stmt.compile(dialect=connection.dialect, column_keys=keys)
    order = compiled.positiontup
    if order is None or set(order) != set(keys):
        return False
    # dialect_impl: a TypeDecorator's own bind_processor skips its impl's dialect processor, and
    # SQLite would then store datetimes without microseconds, which compare wrong as text.
    dialect = connection.dialect
    processors = [table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in order]
    # Column by column, then zip: a third faster than building each tuple in a generator.
    columns = [[row[k] for row in rows] for k in order]
    columns = [[f(v) for v in c] if f else c for c, f in zip(columns, processors, strict=True)]
    connection.exec_driver_sql(str(compiled), list(zip(*columns, strict=True)))
    return True


def _clean(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL and it never carries meaning in a post: drop it on every
    # backend alike, so a post reads back the same wherever it is stored.
    return value.replace("\x00", "") if value and "\x00" in value else value


def _check_fits(table: Any, rows: list[dict[str, Any]]) -> None:
    """Raise ValueError for a value the column cannot hold (SQLite would silently accept it)."""
    limits = [(c.name, c.type.length) for c in table.c if getattr(c.type, "length", None)]
    for name, limit in limits:
        # Whole-column checks first: per-value checks cost 7% of bulk-ingest time.
        values = [v for row in rows if isinstance(v := row.get(name), str)]
        if values and (max(map(len, values)) > limit or "\x00" in "".join(values)):
            row = next(r for r in rows if _unfit(r.get(name), limit))
            what = "contains NUL" if "\x00" in row[name] else f"is {len(row[name])} characters"
            raise ValueError(
                f"{table.name} {row.get('platform')}:{row.get('external_id')!r}: "
                f"{name} {what}, at most {limit} allowed"
            )


def _unfit(value: Any, limit: int) -> bool:
    return isinstance(value, str) and (len(value) > limit or "\x00" in value)


def _author_row(author: RawAuthor) -> dict[str, Any]:
    return {
        "platform": author.platform,
        "external_id": author.external_id,
        "handle": _clean(author.handle),
        "display_name": _clean(author.display_name),
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
    _check_fits(Author.__table__, rows)
    _upsert(session, Author.__table__, rows, ("platform", "external_id"), AUTHOR_UPDATE_COLUMNS)
    return author_ids(session, list(unique))


def author_ids(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Map (platform, external_id) pairs to author ids."""
    found: dict[tuple[str, str], int] = {}
    for platform in {p for p, _ in keys}:
        ext_ids = [e for p, e in keys if p == platform]
        for start in range(0, len(ext_ids), LOOKUP_CHUNK):
            chunk = ext_ids[start : start + LOOKUP_CHUNK]
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
        "brand": _clean(post.brand),
        "text": _clean(post.text),
        "created_at": post.created_at,
        "collected_at": utcnow(),
        "url": _clean(post.url),
        "language": _clean(post.language),
        "like_count": post.like_count,
        "repost_count": post.repost_count,
        "reply_count": post.reply_count,
        "quote_count": post.quote_count,
        "reply_to": _clean(post.reply_to),
        "raw": post.raw or None,
        "quote_of": _clean(post.quote_of),
        "removed": post.removed,
    }


def count_posts(session: Session, brand: str | None = None) -> int:
    """Count stored posts, optionally for one brand."""
    stmt = select(func.count(Post.id))
    if brand is not None:
        stmt = stmt.where(Post.brand == brand)
    return int(session.scalar(stmt) or 0)


def _key_chunks(keys: Iterable[tuple[str, str]]) -> Iterator[tuple[str, ColumnElement[bool]]]:
    """(platform, condition) per chunk of (platform, external id) keys, for bounded IN lists."""
    keys = list(keys)
    for platform in {p for p, _ in keys}:
        ext_ids = [e for p, e in keys if p == platform]
        for start in range(0, len(ext_ids), LOOKUP_CHUNK):
            chunk = ext_ids[start : start + LOOKUP_CHUNK]
            yield platform, and_(Post.platform == platform, Post.external_id.in_(chunk))


def _existing_post_keys(session: Session, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for platform, condition in _key_chunks(keys):
        stmt = select(Post.external_id).where(condition)
        found.update((platform, ext) for ext in session.scalars(stmt))
    return found


def save_posts(session: Session, posts: Iterable[RawPost]) -> SaveResult:
    """Idempotently upsert posts and their authors; the last copy of a duplicate wins.

    Posts already purged by retention keep their purged state: collecting them again does not
    bring their text back.
    """
    unique = {(p.platform, p.external_id): p for p in posts}
    if not unique:
        return SaveResult(0, 0)
    rows = [_post_row(p, None) for p in unique.values()]
    _check_fits(Post.__table__, rows)
    existing = _existing_post_keys(session, list(unique))
    ids = save_authors(session, [p.author for p in unique.values() if p.author])
    for row, post in zip(rows, unique.values(), strict=True):
        if post.author:
            row["author_id"] = ids.get((post.author.platform, post.author.external_id))
    _upsert(
        session,
        Post.__table__,
        rows,
        ("platform", "external_id"),
        POST_UPDATE_COLUMNS,
        where=Post.__table__.c.purged_at.is_(None),
    )
    _refresh_score_engagement(session, existing)
    return SaveResult(len(unique), len(unique) - len(existing))


def get_cursor(session: Session, source: str, query: str) -> str | None:
    """Return where collection of (source, query) left off, if anywhere."""
    row = session.get(CollectorCursor, (source, query))
    return row.cursor if row else None


def set_cursor(session: Session, source: str, query: str, cursor: str | None) -> None:
    """Remember where collection of (source, query) left off."""
    _upsert(
        session,
        CollectorCursor.__table__,
        [{"source": source, "query": query, "cursor": cursor, "updated_at": utcnow()}],
        ("source", "query"),
        ("cursor", "updated_at"),
    )


# --- scoring ---------------------------------------------------------------------------------


def unscored_posts(
    session: Session, model_version: str, limit: int = 1000
) -> list[tuple[int, str]]:
    """Return up to `limit` (post id, text) pairs that `model_version` has not scored yet."""
    scored = select(SentimentScore.post_id).where(SentimentScore.model_version == model_version)
    stmt = (
        select(Post.id, Post.text)
        .where(Post.id.not_in(scored), Post.purged_at.is_(None))
        .order_by(Post.id)
        .limit(limit)
    )
    return [(int(i), str(t)) for i, t in session.execute(stmt)]


def count_unscored(session: Session, model_version: str) -> int:
    """Count posts that `model_version` has not scored yet."""
    scored = select(SentimentScore.post_id).where(SentimentScore.model_version == model_version)
    stmt = select(func.count(Post.id)).where(Post.id.not_in(scored), Post.purged_at.is_(None))
    return int(session.scalar(stmt) or 0)


def save_scores(session: Session, model_version: str, scores: Iterable[dict[str, Any]]) -> int:
    """Upsert scores given as dicts with post_id, label, p_negative, p_neutral, p_positive."""
    now = utcnow()
    rows = [{**s, "model_version": model_version, "scored_at": now} for s in scores]
    window = _post_windows(session, [r["post_id"] for r in rows])
    for row in rows:
        row.update(window.get(row["post_id"], _NO_WINDOW))
    _upsert(
        session,
        SentimentScore.__table__,
        rows,
        ("post_id", "model_version"),
        ("label", "p_negative", "p_neutral", "p_positive", "scored_at", *_NO_WINDOW),
    )
    return len(rows)


_NO_WINDOW: dict[str, Any] = {"brand": None, "created_at": None, "author_id": None, "engagement": 0}
_ENGAGEMENT = Post.like_count + Post.repost_count + Post.reply_count + Post.quote_count


def _post_windows(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Brand, time, author and engagement of each post, copied onto its scores."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        stmt = select(
            Post.id,
            Post.brand,
            Post.created_at,
            Post.author_id,
            _ENGAGEMENT.label("engagement"),
        ).where(Post.id.in_(ids[start : start + LOOKUP_CHUNK]))
        for row in session.execute(stmt):
            found[row.id] = {k: v for k, v in row._mapping.items() if k != "id"}
    return found


def _refresh_score_engagement(session: Session, keys: set[tuple[str, str]]) -> None:
    """Copy the new engagement of posts collected again onto their scores."""
    current = select(_ENGAGEMENT).where(Post.id == SentimentScore.post_id).scalar_subquery()
    for _, condition in _key_chunks(keys):
        posts = select(Post.id).where(condition)
        session.execute(
            update(SentimentScore)
            .where(SentimentScore.post_id.in_(posts))
            .values(engagement=current)
        )


def latest_model_version(session: Session) -> str | None:
    """Return the model version that scored most recently, the one views show by default."""
    stmt = select(SentimentScore.model_version).order_by(SentimentScore.scored_at.desc()).limit(1)
    return session.scalar(stmt)


def model_versions(session: Session) -> list[str]:
    """List every model version that has scores stored."""
    return list(session.scalars(select(SentimentScore.model_version).distinct()))


# --- incidents -------------------------------------------------------------------------------


def open_incident(
    session: Session,
    title: str,
    *,
    brand: str | None = None,
    brand_terms: Sequence[str] = (),
    severity: str = "SEV3",
    opened_at: datetime | None = None,
) -> Incident:
    """Open an incident and return it."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r}: expected one of {', '.join(SEVERITIES)}")
    incident = Incident(
        title=title,
        brand=brand,
        brand_terms=list(brand_terms),
        severity=severity,
        status="open",
        opened_at=opened_at or utcnow(),
    )
    session.add(incident)
    session.flush()
    return incident


def get_incident(session: Session, incident_id: int) -> Incident:
    """Return an incident or raise NotFoundError naming the id."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFoundError(f"no incident with id {incident_id}")
    return incident


def close_incident(
    session: Session, incident_id: int, resolved_at: datetime | None = None
) -> Incident:
    """Mark an incident resolved."""
    incident = get_incident(session, incident_id)
    incident.status = "resolved"
    incident.resolved_at = resolved_at or utcnow()
    return incident


def list_incidents(session: Session, status: str | None = None) -> list[Incident]:
    """List incidents, newest first, optionally only those with `status`."""
    stmt = select(Incident).order_by(Incident.opened_at.desc())
    if status:
        stmt = stmt.where(Incident.status == status)
    return list(session.scalars(stmt))


# --- views over posts and scores --------------------------------------------------------------


def _bucket_epoch(session: Session, column: Any, seconds: int) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        # `//` keeps integer division: SQLAlchemy 2 renders `/` as true division. unixepoch()
        # (SQLite 3.38+) parses a third faster than strftime('%s').
        if sqlite3.sqlite_version_info >= (3, 38):
            return (func.unixepoch(column, type_=sqlite.INTEGER) // seconds) * seconds
        return (func.cast(func.strftime("%s", column), sqlite.INTEGER) // seconds) * seconds
    # date_part gives a double; extract() gives numeric since PostgreSQL 14, four times slower.
    epoch = func.date_part("epoch", column, type_=Float)
    return func.cast(func.floor(epoch / seconds) * seconds, postgresql.BIGINT)


def _window(stmt: _S, brand: str | None, start: datetime | None, end: datetime | None) -> _S:
    return _between(stmt, Post.brand, Post.created_at, brand, start, end)


def _between(
    stmt: _S,
    brand_column: Any,
    time_column: Any,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> _S:
    if brand is not None:
        stmt = stmt.where(brand_column == brand)
    if start is not None:
        stmt = stmt.where(time_column >= start)
    if end is not None:
        stmt = stmt.where(time_column < end)
    return stmt


def _scored(model_version: str) -> Any:
    return and_(SentimentScore.post_id == Post.id, SentimentScore.model_version == model_version)


def _label() -> ColumnElement[str]:
    """A post's label as every view shows it: a reviewer's override wins over the model's."""
    return func.coalesce(LabelOverride.label, SentimentScore.label)


def _overridden(on: Any) -> Any:
    return LabelOverride.post_id == on


def _score_window(
    model_version: str, brand: str | None, start: datetime | None, end: datetime | None
) -> Any:
    """One model's scores in a window, read from the scores' own copy of brand and time."""
    stmt = (
        select()
        .select_from(SentimentScore)
        .outerjoin(LabelOverride, _overridden(SentimentScore.post_id))
        .where(SentimentScore.model_version == model_version)
    )
    return _between(stmt, SentimentScore.brand, SentimentScore.created_at, brand, start, end)


def sentiment_buckets(
    session: Session,
    *,
    model_version: str,
    bucket_minutes: int,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[tuple[int, str, int]]:
    """Count posts per (bucket start as epoch seconds, label); unscored posts count as `unscored`.

    Labels are overrides where a reviewer set one, else the model's.
    """
    seconds = bucket_minutes * 60
    counts = _labelled_buckets(session, model_version, seconds, brand, start, end)
    labelled: Counter[int] = Counter()
    for (b, _), n in counts.items():
        labelled[b] += n
    # Unscored posts are the rest of each bucket: counting them directly would probe the
    # scores once per post, which is what the scores' window columns are there to avoid.
    bucket = _bucket_epoch(session, Post.created_at, seconds).label("bucket")
    totals = _window(select(bucket, func.count(Post.id)), brand, start, end)
    for b, n in session.execute(totals.group_by(bucket)):
        if int(n) > labelled[int(b)]:
            counts[int(b), "unscored"] = int(n) - labelled[int(b)]
    return [(b, lbl, n) for (b, lbl), n in sorted(counts.items())]


def _labelled_buckets(
    session: Session,
    model_version: str,
    seconds: int,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Counter[tuple[int, str]]:
    """Posts per (bucket, label) that the model scored or a reviewer labelled."""
    counts: Counter[tuple[int, str]] = Counter()
    bucket = _bucket_epoch(session, SentimentScore.created_at, seconds).label("bucket")
    label = _label().label("label")
    scored = _score_window(model_version, brand, start, end).add_columns(
        bucket, label, func.count(SentimentScore.id)
    )
    for b, lbl, n in session.execute(scored.group_by(bucket, label)):
        counts[int(b), str(lbl)] += int(n)
    for at, lbl in _reviewed_unscored(session, model_version, brand, start, end):
        counts[int(at.timestamp()) // seconds * seconds, lbl] += 1
    return counts


def _reviewed_unscored(
    session: Session,
    model_version: str,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> list[tuple[datetime, str]]:
    """(post time, label) of posts in the window that a reviewer labelled and the model did not."""
    # Reviewed posts are few: reading them first and the posts by id keeps the planner from
    # walking every post to probe for an override.
    reviewed = dict(session.execute(select(LabelOverride.post_id, LabelOverride.label)).all())
    found = []
    ids = list(reviewed)
    for chunk in range(0, len(ids), LOOKUP_CHUNK):
        stmt = select(Post.id, Post.created_at, Post.brand).where(
            Post.id.in_(ids[chunk : chunk + LOOKUP_CHUNK]), ~_scored_exists(model_version)
        )
        found += [
            (at, reviewed[post_id])
            for post_id, at, post_brand in session.execute(stmt)
            if (brand is None or post_brand == brand)
            and (start is None or at >= start)
            and (end is None or at < end)
        ]
    return found


def newest_posts(
    session: Session,
    *,
    model_version: str,
    label: str | None = "negative",
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Return the newest labelled posts (optionally of one label) with author and probabilities.

    A post is labelled once the model scored it or a reviewer labelled it; the reviewer wins.
    """
    stmt = (
        select(
            Post.id,
            Post.created_at,
            Post.platform,
            Post.text,
            Post.url,
            Author.handle,
            Author.followers,
            _label().label("label"),
            SentimentScore.p_negative,
        )
        .outerjoin(SentimentScore, _scored(model_version))
        .outerjoin(LabelOverride, _overridden(Post.id))
        .outerjoin(Author, Author.id == Post.author_id)
    )
    stmt = stmt.where(_label().is_not(None) if label is None else _label() == label)
    stmt = _window(stmt, brand, start, end).order_by(Post.created_at.desc()).limit(limit)
    return [dict(row._mapping) for row in session.execute(stmt)]


def author_activity(
    session: Session,
    *,
    model_version: str,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    min_negative: int = 1,
) -> pd.DataFrame:
    """Aggregate each author's posts in a window: counts, negativity, reach, engagement, recency.

    Posts count once scored and not `other_language`, under a reviewer's label where set.
    A frame, one row per author with at least `min_negative` negative posts: an incident can
    bring tens of thousands, and columns are built several times faster than dicts.
    """
    totals = _author_totals(model_version, brand, start, end)
    stmt = select(
        Author.id.label("author_id"),
        Author.platform,
        Author.handle,
        Author.display_name,
        Author.followers,
        Author.verified,
        *(c for c in totals.c if c.key != "author_id"),
    ).join(totals, totals.c.author_id == Author.id)
    # Filtering outside the grouping (not HAVING) lets SQLite join authors as it groups.
    keys, rows = _driver_rows(session, stmt.where(totals.c.negative_posts >= min_negative))
    frame = pd.DataFrame.from_records(rows, columns=keys)
    frame["verified"] = frame["verified"].astype(bool)
    frame["last_post_at"] = pd.to_datetime(frame["last_post_at"], utc=True, format="ISO8601")
    return frame


def _driver_rows(session: Session, stmt: Any) -> tuple[list[str], list[Any]]:
    """Run a big read and take its rows from the driver as they come (strings for SQLite times).

    At tens of thousands of rows SQLAlchemy's own row handling costs as much as the query.
    """
    result = session.connection().execute(stmt)
    try:
        return list(result.keys()), list(result.cursor.fetchall())
    finally:
        result.close()


def _author_totals(
    model_version: str, brand: str | None, start: datetime | None, end: datetime | None
) -> Any:
    negative = case((_label() == "negative", 1), else_=0)
    stmt = (
        _score_window(model_version, brand, start, end)
        .add_columns(
            SentimentScore.author_id.label("author_id"),
            func.count(SentimentScore.id).label("posts"),
            func.sum(negative).label("negative_posts"),
            func.avg(SentimentScore.p_negative).label("mean_p_negative"),
            func.coalesce(func.sum(SentimentScore.engagement), 0).label("engagement"),
            func.max(SentimentScore.created_at).label("last_post_at"),
        )
        .where(_label() != OTHER_LANGUAGE, SentimentScore.author_id.is_not(None))
        .group_by(SentimentScore.author_id)
    )
    return stmt.subquery()


def _as_utc(value: Any) -> Any:
    return _UTC_DATETIME.process_result_value(value, None)  # type: ignore[arg-type]


def latest_negative_post(
    session: Session,
    author_ids_: Sequence[int],
    *,
    model_version: str,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[int, dict[str, Any]]:
    """Return each author's newest negative post (text and url) in the window.

    A page of authors costs a few milliseconds; every unhappy author of a big incident (tens of
    thousands) takes one pass over the window.
    """
    wanted = list(dict.fromkeys(author_ids_))
    if len(wanted) > FEW_AUTHORS:
        # Binding tens of thousands of ids would exceed PostgreSQL's parameter limit, and one
        # pass over the window is cheaper than many lists: filter here instead.
        chunks: list[list[int] | None] = [None]
    else:
        chunks = [wanted[i : i + LOOKUP_CHUNK] for i in range(0, len(wanted), LOOKUP_CHUNK)]
    keep = set(wanted)
    found = {}
    for chunk in chunks:
        stmt = _latest_negative(model_version, brand, start, end, chunk)
        for author, text_, url in _driver_rows(session, stmt)[1]:
            if author in keep:
                found[int(author)] = {"text": text_, "url": url}
    return found


def _latest_negative(
    model_version: str,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
    authors: list[int] | None,
) -> Any:
    newest = func.row_number().over(
        partition_by=SentimentScore.author_id,
        order_by=(SentimentScore.created_at.desc(), SentimentScore.post_id.desc()),
    )
    ranked = _score_window(model_version, brand, start, end).add_columns(
        SentimentScore.post_id, newest.label("rank")
    )
    ranked = ranked.where(_label() == "negative", SentimentScore.author_id.is_not(None))
    if authors is not None:
        ranked = ranked.where(SentimentScore.author_id.in_(authors))
    found = ranked.subquery()
    return (
        select(Post.author_id, Post.text, Post.url)
        .join(found, found.c.post_id == Post.id)
        .where(found.c.rank == 1)
    )


def time_range(
    session: Session, brand: str | None = None
) -> tuple[datetime | None, datetime | None]:
    """Return the first and last post time (for one brand, or all posts)."""
    # Two scalar subqueries: SQLite answers a lone min() or max() from the index in one step,
    # but both in one select scan every post of the brand.
    first_q = _window(select(func.min(Post.created_at)), brand, None, None).scalar_subquery()
    last_q = _window(select(func.max(Post.created_at)), brand, None, None).scalar_subquery()
    first, last = session.execute(select(first_q, last_q)).one()
    return _as_utc(first), _as_utc(last)


def brands(session: Session) -> list[str]:
    """List the brands posts were collected for."""
    stmt = select(Post.brand).where(Post.brand.is_not(None)).distinct().order_by(Post.brand)
    return [str(b) for b in session.scalars(stmt)]


# --- outreach --------------------------------------------------------------------------------


def outreach_states(session: Session, incident_id: int) -> dict[int, dict[str, Any]]:
    """Return support's status, assignee and note per author id for one incident."""
    stmt = select(Outreach).where(Outreach.incident_id == incident_id)
    return {
        o.author_id: {
            "status": o.status,
            "assignee": o.assignee,
            "note": o.note,
            "updated_at": o.updated_at,
        }
        for o in session.scalars(stmt)
    }


def set_outreach(
    session: Session,
    incident_id: int,
    author_id: int,
    *,
    status: str,
    assignee: str | None = None,
    note: str | None = None,
) -> None:
    """Record support's status, assignee and note for one author in one incident."""
    if status not in OUTREACH_STATUSES:
        raise ValueError(
            f"outreach status {status!r}: expected one of {', '.join(OUTREACH_STATUSES)}"
        )
    get_incident(session, incident_id)
    if session.get(Author, author_id) is None:
        raise NotFoundError(f"no author with id {author_id}")
    row = {
        "incident_id": incident_id,
        "author_id": author_id,
        "status": status,
        "assignee": assignee,
        "note": note,
        "updated_at": utcnow(),
    }
    _upsert(
        session,
        Outreach.__table__,
        [row],
        ("incident_id", "author_id"),
        ("status", "assignee", "note", "updated_at"),
    )


# --- collector health ------------------------------------------------------------------------


def _health(session: Session, source: str) -> Any:
    from flarewatch.storage.schema import SourceHealth

    row = session.get(SourceHealth, source)
    if row is None:
        row = SourceHealth(source=source, consecutive_failures=0, posts_collected=0)
        session.add(row)
    return row


def record_source_success(
    session: Session, source: str, inserted: int, at: datetime | None = None
) -> None:
    """Note a successful collection run of `source` that stored `inserted` new posts."""
    row = _health(session, source)
    row.last_success_at = row.updated_at = at or utcnow()
    row.consecutive_failures = 0
    row.posts_collected = (row.posts_collected or 0) + inserted


def record_source_failure(
    session: Session, source: str, error: str, inserted: int = 0, at: datetime | None = None
) -> None:
    """Note a failed run of `source` (`error` must already be free of secrets)."""
    row = _health(session, source)
    row.last_error_at = row.updated_at = at or utcnow()
    row.last_error = error[:1000]
    row.consecutive_failures = (row.consecutive_failures or 0) + 1
    row.posts_collected = (row.posts_collected or 0) + inserted


def source_health(session: Session) -> list[dict[str, Any]]:
    """Return every source's health: last success and error, failures in a row, posts collected."""
    from flarewatch.storage.schema import SourceHealth

    rows = session.scalars(select(SourceHealth).order_by(SourceHealth.source))
    return [
        {
            "source": r.source,
            "last_success_at": r.last_success_at,
            "last_error_at": r.last_error_at,
            "last_error": r.last_error,
            "consecutive_failures": r.consecutive_failures,
            "posts_collected": r.posts_collected,
        }
        for r in rows
    ]


# --- analyst views ---------------------------------------------------------------------------


def posts_with_scores(
    session: Session,
    *,
    model_version: str,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    platform: str | None = None,
) -> list[dict[str, Any]]:
    """Return posts in a window, oldest first, with author, engagement and (if scored) sentiment."""
    stmt = (
        select(
            Post.id,
            Post.created_at,
            Post.platform,
            Post.brand,
            Post.text,
            Post.url,
            Post.author_id,
            Author.handle,
            Author.followers,
            Post.like_count,
            Post.repost_count,
            Post.reply_count,
            Post.quote_count,
            _label().label("label"),
            SentimentScore.label.label("model_label"),
            SentimentScore.p_negative,
            SentimentScore.p_neutral,
            SentimentScore.p_positive,
        )
        .outerjoin(SentimentScore, _scored(model_version))
        .outerjoin(LabelOverride, _overridden(Post.id))
        .outerjoin(Author, Author.id == Post.author_id)
    )
    if platform is not None:
        stmt = stmt.where(Post.platform == platform)
    stmt = _window(stmt, brand, start, end).order_by(Post.created_at, Post.id)
    return [dict(row._mapping) for row in session.execute(stmt)]


# --- dashboard breakdowns ---------------------------------------------------------------------

BREAKDOWN_COLUMNS = ("platform", "language")


def sentiment_by(
    session: Session,
    column: str,
    *,
    model_version: str,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[tuple[str | None, str, int]]:
    """Count posts per (platform or language, label) in a window; unscored count as `unscored`."""
    if column not in BREAKDOWN_COLUMNS:
        raise ValueError(f"breakdown {column!r}: expected one of {', '.join(BREAKDOWN_COLUMNS)}")
    group = getattr(Post, column).label("group")
    label = func.coalesce(_label(), "unscored").label("label")
    stmt = (
        select(group, label, func.count(Post.id))
        .outerjoin(SentimentScore, _scored(model_version))
        .outerjoin(LabelOverride, _overridden(Post.id))
    )
    stmt = _window(stmt, brand, start, end).group_by(group, label)
    return [(g, str(lbl), int(n)) for g, lbl, n in session.execute(stmt)]


def platform_activity(session: Session, since: datetime) -> list[dict[str, Any]]:
    """Per platform: posts created since `since`, and the newest collected and created times."""
    # `platform || ''` stops SQLite from walking the whole (platform, external_id) index to
    # group in order; the day's posts come from the created_at index instead.
    platform = (Post.platform + "").label("platform")
    stmt = (
        select(
            platform,
            func.count(Post.id).label("posts"),
            func.max(Post.collected_at).label("last_collected_at"),
            func.max(Post.created_at).label("last_post_at"),
        )
        .where(Post.created_at >= since)
        .group_by(platform)
        .order_by(platform)
    )
    rows = [dict(r._mapping) for r in session.execute(stmt)]
    for row in rows:
        row["last_collected_at"] = _as_utc(row["last_collected_at"])
        row["last_post_at"] = _as_utc(row["last_post_at"])
    return rows


# --- scoring workers: leased claims ----------------------------------------------------------


def claim_unscored(
    session: Session,
    model_version: str,
    worker: str,
    *,
    limit: int,
    lease_until: datetime,
    now: datetime | None = None,
) -> list[tuple[int, str]]:
    """Claim up to `limit` posts nobody has scored or holds a live claim on; return (id, text).

    One INSERT ... SELECT takes the claims, so on SQLite the claim transaction holds the write
    lock from its first statement; on PostgreSQL the candidates are picked with
    `FOR UPDATE SKIP LOCKED`. The conflict clause only takes over expired claims, so two workers
    never both receive the same post while its lease is live.
    """
    from sqlalchemy import exists, literal

    from flarewatch.storage.schema import ScoreClaim, UTCDateTime

    now = now or utcnow()
    claims = ScoreClaim.__table__
    candidates = (
        select(
            Post.id,
            literal(model_version),
            literal(worker),
            literal(lease_until, UTCDateTime()),
        )
        .where(
            Post.purged_at.is_(None),
            ~exists().where(_scored(model_version)),
            ~exists().where(
                claims.c.post_id == Post.id,
                claims.c.model_version == model_version,
                claims.c.lease_until > now,
            ),
        )
        .order_by(Post.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, of=Post)
    stmt = _insert(session, claims).from_select(
        ["post_id", "model_version", "worker", "lease_until"], candidates
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["post_id", "model_version"],
        set_={"worker": stmt.excluded.worker, "lease_until": stmt.excluded.lease_until},
        where=claims.c.lease_until <= now,
    ).returning(claims.c.post_id)
    ids = [int(i) for i in session.scalars(stmt)]
    if not ids:
        return []
    return _claimed_texts(session, model_version, ids)


def _claimed_texts(session: Session, model_version: str, ids: list[int]) -> list[tuple[int, str]]:
    # On PostgreSQL the claim's snapshot can predate another worker's save of the same post; its
    # claim row was deleted with that save, so no conflict stopped us. This statement sees the save.
    from flarewatch.storage.schema import ScoreClaim

    stmt = select(Post.id, Post.text).where(Post.id.in_(ids), ~_scored_exists(model_version))
    texts = [(int(i), str(t)) for i, t in session.execute(stmt.order_by(Post.id))]
    done = set(ids) - {i for i, _ in texts}
    if done:
        session.execute(
            delete(ScoreClaim).where(
                ScoreClaim.model_version == model_version, ScoreClaim.post_id.in_(done)
            )
        )
    return texts


def _scored_exists(model_version: str) -> ColumnElement[bool]:
    return select(SentimentScore.id).where(_scored(model_version)).exists()


def save_claimed_scores(
    session: Session, model_version: str, scores: Sequence[dict[str, Any]]
) -> int:
    """Save scores (as `save_scores`) and drop the claims on those posts in the same transaction."""
    from flarewatch.storage.schema import ScoreClaim

    saved = save_scores(session, model_version, scores)
    ids = [s["post_id"] for s in scores]
    for start in range(0, len(ids), LOOKUP_CHUNK):
        session.execute(
            delete(ScoreClaim).where(
                ScoreClaim.model_version == model_version,
                ScoreClaim.post_id.in_(ids[start : start + LOOKUP_CHUNK]),
            )
        )
    return saved


def release_claims(session: Session, model_version: str, worker: str) -> int:
    """Drop every claim `worker` holds, so other workers can take those posts at once."""
    from flarewatch.storage.schema import ScoreClaim

    result = session.execute(
        delete(ScoreClaim).where(
            ScoreClaim.model_version == model_version, ScoreClaim.worker == worker
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def next_claim_expiry(
    session: Session, model_version: str, now: datetime | None = None
) -> datetime | None:
    """When the earliest live claim on a still unscored post runs out; None if there is none."""
    from flarewatch.storage.schema import ScoreClaim

    stmt = select(func.min(ScoreClaim.lease_until)).where(
        ScoreClaim.model_version == model_version,
        ScoreClaim.lease_until > (now or utcnow()),
        ~select(SentimentScore.id)
        .where(
            SentimentScore.post_id == ScoreClaim.post_id,
            SentimentScore.model_version == model_version,
        )
        .exists(),
    )
    return _as_utc(session.scalar(stmt))


# --- retention -------------------------------------------------------------------------------


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
    recent = select(Post.author_id).where(Post.created_at >= before, Post.author_id.is_not(None))
    stale = select(Author.id).where(Author.purged_at.is_(None), Author.id.not_in(recent))
    stale_ids = list(session.scalars(stale))
    for start in range(0, len(stale_ids), LOOKUP_CHUNK):
        _purge_authors(session, stale_ids[start : start + LOOKUP_CHUNK], now)
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


# --- spike events, early warnings and incident links ------------------------------------------


def open_incident_at(session: Session, brand: str | None, at: datetime) -> Incident | None:
    """Return the incident open for `brand` (or for every brand) at time `at`, if any."""
    stmt = (
        select(Incident)
        .where(Incident.opened_at <= at)
        .where((Incident.resolved_at.is_(None)) | (Incident.resolved_at >= at))
        .where((Incident.brand == brand) | (Incident.brand.is_(None)))
        .order_by(Incident.opened_at.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def _overlapping_event(session: Session, brand: str | None, start: datetime, end: datetime) -> Any:
    from flarewatch.storage.schema import SpikeEvent

    stmt = (
        select(SpikeEvent)
        .where(SpikeEvent.brand.is_(None) if brand is None else SpikeEvent.brand == brand)
        .where(SpikeEvent.started_at <= end, SpikeEvent.ended_at >= start)
        .order_by(SpikeEvent.started_at)
        .limit(1)
    )
    return session.scalars(stmt).first()


def save_spike_event(
    session: Session, brand: str | None, fields: dict[str, Any], *, merge_gap: Any
) -> tuple[Any, bool]:
    """Insert a spike event, or extend the one it continues (within `merge_gap`), once per spike.

    Args:
        session: The session.
        brand: The brand the spike is about.
        fields: `kind`, `started_at`, `peak_at`, `detected_at`, `ended_at`, `observed`,
            `baseline`, `ratio`, `severity` and optionally `themes`.
        merge_gap: A timedelta: an event ending this close before the new spike is the same spike.

    Returns:
        The stored `SpikeEvent` and whether it is new. A new event is an early warning when no
        incident for the brand was open at detection; otherwise it belongs to that incident.
    """
    from flarewatch.storage.schema import SpikeEvent

    found = _overlapping_event(
        session, brand, fields["started_at"] - merge_gap, fields["ended_at"] + merge_gap
    )
    if found is not None:
        _extend_event(found, fields)
        return found, False
    incident = open_incident_at(session, brand, fields["detected_at"])
    event = SpikeEvent(
        brand=brand,
        **fields,
        early_warning=incident is None,
        incident_id=incident.id if incident else None,
        status="open",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(event)
    session.flush()
    return event, True


def _extend_event(event: Any, fields: dict[str, Any]) -> None:
    event.started_at = min(event.started_at, fields["started_at"])
    event.ended_at = max(event.ended_at, fields["ended_at"])
    if fields["severity"] > event.severity:
        for key in ("peak_at", "observed", "baseline", "ratio", "severity", "kind"):
            setattr(event, key, fields[key])
    if fields.get("themes"):
        event.themes = fields["themes"]
    event.updated_at = utcnow()


def spike_events(
    session: Session,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    early_only: bool = False,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Return stored spike events, newest first, optionally only early warnings or one status."""
    from flarewatch.storage.schema import SpikeEvent

    stmt = select(SpikeEvent).order_by(SpikeEvent.started_at.desc())
    if brand is not None:
        stmt = stmt.where(SpikeEvent.brand == brand)
    if start is not None:
        stmt = stmt.where(SpikeEvent.ended_at >= start)
    if end is not None:
        stmt = stmt.where(SpikeEvent.started_at < end)
    if early_only:
        stmt = stmt.where(SpikeEvent.early_warning.is_(True))
    if status is not None:
        stmt = stmt.where(SpikeEvent.status == status)
    return [_event_row(e) for e in session.scalars(stmt)]


SPIKE_EVENT_FIELDS = (
    "id",
    "brand",
    "kind",
    "started_at",
    "peak_at",
    "detected_at",
    "ended_at",
    "observed",
    "baseline",
    "ratio",
    "severity",
    "early_warning",
    "incident_id",
    "status",
    "themes",
    "alerted_at",
)


def _event_row(event: Any) -> dict[str, Any]:
    return {key: getattr(event, key) for key in SPIKE_EVENT_FIELDS}


def early_warnings(session: Session, brand: str | None = None) -> list[dict[str, Any]]:
    """Return open "possible incident" warnings: spikes seen while no incident was open."""
    return spike_events(session, brand=brand, early_only=True, status="open")


def mark_spike_alerted(session: Session, event_id: int, at: datetime | None = None) -> bool:
    """Record that a spike's alert went out; False when it had already been sent (cooldown)."""
    from flarewatch.storage.schema import SpikeEvent

    event = session.get(SpikeEvent, event_id)
    if event is None:
        raise NotFoundError(f"no spike event with id {event_id}")
    if event.alerted_at is not None:
        return False
    event.alerted_at = at or utcnow()
    return True


def set_spike_status(
    session: Session, event_id: int, status: str, incident_id: int | None = None
) -> None:
    """Dismiss an early warning or promote it to (attach it to) an incident."""
    from flarewatch.storage.schema import SPIKE_STATUSES, SpikeEvent

    if status not in SPIKE_STATUSES:
        raise ValueError(f"spike status {status!r}: expected one of {', '.join(SPIKE_STATUSES)}")
    event = session.get(SpikeEvent, event_id)
    if event is None:
        raise NotFoundError(f"no spike event with id {event_id}")
    event.status, event.updated_at = status, utcnow()
    if incident_id is not None:
        event.incident_id = get_incident(session, incident_id).id


def linked_incident(session: Session, source: str, external_id: str) -> Incident | None:
    """Return the incident linked to an outside tool's incident id, if any."""
    from flarewatch.storage.schema import IncidentLink

    link = session.get(IncidentLink, (source, external_id))
    return session.get(Incident, link.incident_id) if link else None


def link_incident(session: Session, source: str, external_id: str, incident_id: int) -> None:
    """Remember that an outside tool's incident id is our `incident_id`."""
    from flarewatch.storage.schema import IncidentLink

    _upsert(
        session,
        IncidentLink.__table__,
        [
            {
                "source": source,
                "external_id": external_id,
                "incident_id": incident_id,
                "updated_at": utcnow(),
            }
        ],
        ("source", "external_id"),
        ("incident_id", "updated_at"),
    )


def update_incident(
    session: Session, incident_id: int, *, title: str | None = None, severity: str | None = None
) -> Incident:
    """Change an incident's title or severity."""
    incident = get_incident(session, incident_id)
    if severity is not None:
        if severity not in SEVERITIES:
            raise ValueError(f"severity {severity!r}: expected one of {', '.join(SEVERITIES)}")
        incident.severity = severity
    if title is not None:
        incident.title = title
    return incident


def count_scores(session: Session, model_version: str) -> int:
    """Count stored scores of `model_version` (at most one per post)."""
    stmt = select(func.count(SentimentScore.id)).where(
        SentimentScore.model_version == model_version
    )
    return int(session.scalar(stmt) or 0)


def count_claims(session: Session, model_version: str) -> int:
    """Count scoring claims, live or expired, held for `model_version`."""
    from flarewatch.storage.schema import ScoreClaim

    stmt = select(func.count()).where(ScoreClaim.model_version == model_version)
    return int(session.scalar(stmt) or 0)


def set_spike_themes(session: Session, event_id: int, themes: list[dict[str, Any]]) -> None:
    """Store the complaint themes found in a spike's negative posts."""
    from flarewatch.storage.schema import SpikeEvent

    event = session.get(SpikeEvent, event_id)
    if event is None:
        raise NotFoundError(f"no spike event with id {event_id}")
    event.themes, event.updated_at = themes, utcnow()


def refresh_planner_statistics(session: Session) -> None:
    """Let SQLite's planner see index selectivity (sampled, milliseconds); PostgreSQL does it alone."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(text("PRAGMA analysis_limit=1000"))
    session.execute(text("ANALYZE"))


# --- human label overrides -------------------------------------------------------------------


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
    from flarewatch.storage.schema import LABELS

    if label not in LABELS:
        raise ValueError(f"label {label!r} is not one of {', '.join(LABELS)}")
    if session.get(Post, post_id) is None:
        raise NotFoundError(f"no post with id {post_id}")
    row = {
        "post_id": post_id,
        "label": label,
        "labelled_by": labelled_by,
        "note": note,
        "labelled_at": utcnow(),
    }
    _upsert(
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


# --- languages -------------------------------------------------------------------------------


def post_languages(session: Session, post_ids: Sequence[int]) -> dict[int, str | None]:
    """Return the stored language tag of each post."""
    found: dict[int, str | None] = {}
    for start in range(0, len(post_ids), UPSERT_CHUNK):
        chunk = list(post_ids[start : start + UPSERT_CHUNK])
        stmt = select(Post.id, Post.language).where(Post.id.in_(chunk))
        found.update({int(pid): lang for pid, lang in session.execute(stmt)})
    return found


def set_post_languages(session: Session, languages: Mapping[int, str]) -> None:
    """Store detected languages (ISO 639-1 codes) on posts."""
    if languages:
        rows = [{"pid": pid, "language": lang} for pid, lang in languages.items()]
        stmt = (
            update(Post).where(Post.id == bindparam("pid")).values(language=bindparam("language"))
        )
        session.connection().execute(stmt, rows)
