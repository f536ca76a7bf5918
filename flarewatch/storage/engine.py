"""Engine and session setup: SQLite in WAL mode with a busy timeout, or any SQLAlchemy URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Key of the PostgreSQL advisory lock every `upgrade` holds ("flarewatch" in ASCII, 64-bit).
MIGRATION_LOCK_KEY = 0x666C_6172_6577_6174
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 65_536


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Zero what deletes and purges free, so removed text does not linger in free pages (the
    # default in many builds, not in all).
    cursor.execute("PRAGMA secure_delete=ON")
    # WAL makes NORMAL durable against application crashes, and much faster than FULL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # The default 2 MB page cache misses on nearly every score lookup of an incident window's
    # joins; 64 MB (an upper bound, filled only as pages are read) holds the covering indexes.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url`; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        engine = create_engine(url, **kwargs)
        create_private_file(engine.url.database)
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if url.startswith("postgresql+psycopg"):
        # psycopg prepares a statement from its sixth run; PostgreSQL then switches to a generic
        # plan that cannot see a window's bounds (an author page went from 22 ms to 367 ms).
        kwargs["connect_args"] = {"prepare_threshold": None, **kwargs.get("connect_args", {})}
    return create_engine(url, **kwargs)


def create_private_file(database: str | None) -> None:
    """Create a new SQLite file readable by its owner only (0600); its WAL and shared-memory
    files inherit that mode. An existing file keeps the mode its owner chose."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # a missing folder or no permission: SQLite's own error is clearer
    os.close(fd)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to `engine` that keeps objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on any error."""
    with session_factory(engine)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def checkpoint_wal(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the database file and empty it (no-op elsewhere).

    After a purge this puts the zeroed pages in the file at once instead of at the next
    automatic checkpoint. Readers still inside an old snapshot can make it partial.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def alembic_config(engine: Engine) -> Config:
    """Alembic config pointing at the packaged migrations and at `engine`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser treats % as interpolation; URL-encoded passwords and options contain it.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (idempotent).

    On PostgreSQL every migration runs in one transaction under an advisory lock: hosts that
    start together wait for the first, then find the schema current; a failed migration leaves
    the schema as it was.
    """
    config = alembic_config(engine)
    if engine.dialect.name != "postgresql":
        command.upgrade(config, revision)
        return
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision stored in the database, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
