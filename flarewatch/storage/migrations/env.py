"""Alembic environment: run migrations on the engine Flarewatch hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine, create_engine

from flarewatch.storage.schema import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    return (
        engine
        if engine is not None
        else create_engine(config.get_main_option("sqlalchemy.url") or "")
    )


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations in a transaction; SQLite uses batch mode for ALTERs.

    A connection handed over (PostgreSQL's, holding the migration lock) is already in the
    transaction its caller commits.
    """
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = _engine()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # Batch mode recreates a table: with foreign keys on, dropping the old `posts` would
            # cascade into scores, labels and outreach. The pragma only acts outside a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        _run(connection)
        connection.commit()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


run_migrations_online()
