"""Schema upgrades on PostgreSQL: one transaction under an advisory lock, so hosts never race."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from flarewatch.storage.engine import (
    MIGRATION_LOCK_KEY,
    alembic_config,
    current_revision,
    make_engine,
    upgrade,
)

from ..conftest import POSTGRES_URL, postgres_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def hosts() -> Iterator[list[Engine]]:
    """Two engines on one empty schema, as two hosts starting against one database."""
    with postgres_schema() as schema:
        # Without the lock the second host's DDL blocks on the first's: fail then, never hang.
        options = {"options": f"-csearch_path={schema} -clock_timeout=30s"}
        engines = [make_engine(POSTGRES_URL or "", connect_args=options) for _ in range(2)]
        yield engines
        for engine in engines:
            engine.dispose()


def _head(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def _in_thread(engine: Engine, errors: list[BaseException], start: threading.Barrier | None):
    def target() -> None:
        try:
            if start is not None:
                start.wait(timeout=30)
            upgrade(engine)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_upgrade__two_hosts_at_once__both_succeed(hosts: list[Engine]) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(len(hosts))
    threads = [_in_thread(engine, errors, start) for engine in hosts]
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert current_revision(hosts[0]) == _head(hosts[0])
    with hosts[0].connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1


def test_upgrade__lock_held__waits_then_migrates(hosts: list[Engine]) -> None:
    errors: list[BaseException] = []
    with hosts[1].connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        thread = _in_thread(hosts[0], errors, None)
        thread.join(timeout=1.5)
        assert thread.is_alive(), "upgrade ran while another host held the migration lock"
        assert current_revision(hosts[1]) is None
        holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        holder.commit()
    thread.join(timeout=120)
    assert errors == []
    assert current_revision(hosts[0]) == _head(hosts[0])


@pytest.mark.postgres
def test_make_engine__postgres_plans_every_window_query_for_its_bounds() -> None:
    # A prepared statement gets a generic plan from its sixth run, one that cannot see the
    # window's bounds; the dashboard repeats the same window queries all day.
    with postgres_schema() as schema:
        engine = make_engine(
            POSTGRES_URL or "", connect_args={"options": f"-csearch_path={schema}"}
        )
        with engine.connect() as conn:
            for hours in range(8):
                conn.execute(text("SELECT now() - make_interval(hours => :h)"), {"h": hours})
            prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
        engine.dispose()
    assert prepared == 0
