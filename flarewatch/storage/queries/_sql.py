"""Shared SQL building blocks: dialect-aware upserts, chunked key lookups, time windows and buckets."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from flarewatch.storage.schema import (
    LabelOverride,
    Post,
    SentimentScore,
    UTCDateTime,
)

UPSERT_CHUNK = 5000


LOOKUP_CHUNK = 500


FEW_AUTHORS = 5 * LOOKUP_CHUNK


_S = TypeVar("_S", bound=Select)
_T = TypeVar("_T")


_UTC_DATETIME = UTCDateTime()


def insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upsert is not implemented for {dialect}")


def upsert(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    where: ColumnElement[bool] | None = None,
) -> None:
    if not rows:
        return
    stmt = insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}, where=where
    )
    if not executemany_positional(session, stmt, table, rows):
        # One cached statement run executemany-style: compiling a multi-VALUES statement per
        # chunk cost ten times more than the inserts themselves.
        for chunk in chunks(rows, UPSERT_CHUNK):
            session.execute(stmt, chunk)


def executemany_positional(
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


def executemany_returning(
    session: Session, stmt: Any, table: Any, rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """PostgreSQL: run `stmt` (an INSERT ... RETURNING) for `rows` as one psycopg executemany.

    Returns the rows it returned. SQLAlchemy would send multi-row VALUES statements instead,
    which cost four times the CPU of the whole ingest. Values go through each column type's
    bind processor, as in `executemany_positional`.
    """
    connection = session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    compiled = stmt.compile(dialect=dialect, column_keys=keys)
    processors = [(k, table.c[k].type.dialect_impl(dialect).bind_processor(dialect)) for k in keys]
    params = [{k: f(row[k]) if f else row[k] for k, f in processors} for row in rows]
    # psycopg's own cursor: the DB-API one SQLAlchemy types knows no `returning`.
    driver: Any = connection.connection.dbapi_connection
    cursor = driver.cursor()
    try:
        cursor.executemany(str(compiled), params, returning=True)
        found = list(cursor.fetchall())
        while cursor.nextset():
            found += cursor.fetchall()
    finally:
        cursor.close()
    return found


def clean_text(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL and it never carries meaning in a post: drop it on every
    # backend alike, so a post reads back the same wherever it is stored.
    return value.replace("\x00", "") if value and "\x00" in value else value


def check_fits(table: Any, rows: list[dict[str, Any]]) -> None:
    """Raise ValueError for a value the column cannot hold (SQLite would silently accept it)."""
    limits = [(c.name, c.type.length) for c in table.c if getattr(c.type, "length", None)]
    for name, limit in limits:
        # Whole-column checks first: per-value checks cost 7% of bulk-ingest time.
        values = [v for row in rows if isinstance(v := row.get(name), str)]
        if values and (max(map(len, values)) > limit or "\x00" in "".join(values)):
            row = next(r for r in rows if unfit(r.get(name), limit))
            what = "contains NUL" if "\x00" in row[name] else f"is {len(row[name])} characters"
            raise ValueError(
                f"{table.name} {row.get('platform')}:{row.get('external_id')!r}: "
                f"{name} {what}, at most {limit} allowed"
            )


def unfit(value: Any, limit: int) -> bool:
    return isinstance(value, str) and (len(value) > limit or "\x00" in value)


def chunks(values: Sequence[_T], size: int = LOOKUP_CHUNK) -> Iterator[list[_T]]:
    """`values` in lists of at most `size`, so an IN list never exceeds a driver's limits."""
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def key_chunks(keys: Iterable[tuple[str, str]]) -> Iterator[tuple[str, ColumnElement[bool]]]:
    """(platform, condition) per chunk of (platform, external id) keys, for bounded IN lists."""
    keys = list(keys)
    for platform in {p for p, _ in keys}:
        ext_ids = [e for p, e in keys if p == platform]
        for chunk in chunks(ext_ids):
            yield platform, and_(Post.platform == platform, Post.external_id.in_(chunk))


NO_WINDOW: dict[str, Any] = {"brand": None, "created_at": None, "author_id": None, "engagement": 0}


ENGAGEMENT = Post.like_count + Post.repost_count + Post.reply_count + Post.quote_count


def bucket_epoch(session: Session, column: Any, seconds: int) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        # `//` keeps integer division: SQLAlchemy 2 renders `/` as true division. unixepoch()
        # (SQLite 3.38+) parses a third faster than strftime('%s').
        if sqlite3.sqlite_version_info >= (3, 38):
            return (func.unixepoch(column, type_=sqlite.INTEGER) // seconds) * seconds
        return (func.cast(func.strftime("%s", column), sqlite.INTEGER) // seconds) * seconds
    # date_part gives a double; extract() gives numeric since PostgreSQL 14, four times slower.
    epoch = func.date_part("epoch", column, type_=Float)
    return func.cast(func.floor(epoch / seconds) * seconds, postgresql.BIGINT)


def greatest(session: Session, a: Any, b: Any) -> ColumnElement[Any]:
    """The greater of two values, either possibly NULL (then the other)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.greatest(a, b)  # ignores NULLs
    # SQLite's two-argument max() is NULL when either is.
    return func.max(func.coalesce(a, b), func.coalesce(b, a))


def in_window(stmt: _S, brand: str | None, start: datetime | None, end: datetime | None) -> _S:
    return created_between(stmt, Post.brand, Post.created_at, brand, start, end)


def others_in_window(
    stmt: _S, brand: str | None, start: datetime | None, end: datetime | None
) -> _S:
    """`in_window` without the brand's own posts (they are never sentiment)."""
    return in_window(stmt.where(Post.is_own.is_(False)), brand, start, end)


def created_between(
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


def scored_by(model_version: str) -> Any:
    return and_(SentimentScore.post_id == Post.id, SentimentScore.model_version == model_version)


def scored_in_window(
    session: Session,
    model_version: str,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Any:
    """`scored_by`, on PostgreSQL also bounded by the window on the scores' brand and time.

    For posts in that window it matches the same scores (a score copies its post's brand and
    time); the bounds let PostgreSQL read the window's scores index-only and hash-join them,
    instead of probing the scores once per post. SQLite probes per post either way, and the
    bounds would cost it a table read per probe.
    """
    conditions = [scored_by(model_version)]
    if session.get_bind().dialect.name != "postgresql":
        return conditions[0]
    if brand is not None:
        conditions.append(SentimentScore.brand == brand)
    if start is not None:
        conditions.append(SentimentScore.created_at >= start)
    if end is not None:
        conditions.append(SentimentScore.created_at < end)
    return and_(*conditions)


def effective_label() -> ColumnElement[str]:
    """A post's label as every view shows it: a reviewer's override wins over the model's."""
    return func.coalesce(LabelOverride.label, SentimentScore.label)


def labelled(label: str) -> ColumnElement[bool]:
    """`effective_label() == label` in a form whose selectivity the planner can estimate."""
    return or_(
        LabelOverride.label == label,
        and_(LabelOverride.label.is_(None), SentimentScore.label == label),
    )


def overridden(on: Any) -> Any:
    return LabelOverride.post_id == on


def score_window(
    model_version: str, brand: str | None, start: datetime | None, end: datetime | None
) -> Any:
    """One model's scores in a window, read from the scores' own copy of brand and time."""
    stmt = (
        select()
        .select_from(SentimentScore)
        .outerjoin(LabelOverride, overridden(SentimentScore.post_id))
        .where(SentimentScore.model_version == model_version)
    )
    return created_between(stmt, SentimentScore.brand, SentimentScore.created_at, brand, start, end)


def driver_rows(session: Session, stmt: Any) -> tuple[list[str], list[Any]]:
    """Run a big read and take its rows from the driver as they come (strings for SQLite times).

    At tens of thousands of rows SQLAlchemy's own row handling costs as much as the query.
    """
    result = session.connection().execute(stmt)
    try:
        return list(result.keys()), list(result.cursor.fetchall())
    finally:
        result.close()


def as_utc(value: Any) -> Any:
    return _UTC_DATETIME.process_result_value(value, None)  # type: ignore[arg-type]
