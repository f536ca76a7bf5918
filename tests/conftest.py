"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when CI provides one)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from flarewatch.domain import RawAuthor, RawPost
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, upgrade

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

POSTGRES_URL = os.environ.get("FLAREWATCH_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A throwaway schema in the CI PostgreSQL (skips the test when there is none)."""
    if not POSTGRES_URL:
        pytest.skip("FLAREWATCH_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL)")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _postgres_engine() -> Iterator[Engine]:
    with postgres_schema() as schema:
        engine = make_engine(
            POSTGRES_URL or "", connect_args={"options": f"-csearch_path={schema}"}
        )
        yield engine
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """A freshly migrated database: SQLite always, PostgreSQL when CI provides one."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'flarewatch.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
    else:
        for eng in _postgres_engine():
            upgrade(eng)
            yield eng


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """A freshly migrated PostgreSQL database only (the test skips without one)."""
    for eng in _postgres_engine():
        upgrade(eng)
        yield eng


def run_side_by_side(*steps: Callable[[], None], timeout: float = 30) -> None:
    """Run each step in its own thread (each its own transaction), wait, re-raise a failure."""
    errors: list[BaseException] = []

    def guarded(step: Callable[[], None]) -> None:
        try:
            step()
        except BaseException as error:  # an assertion in a thread would otherwise be lost
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    """A freshly migrated SQLite database only."""
    eng = make_engine(f"sqlite:///{tmp_path / 'flarewatch.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def make_post(
    i: int,
    text: str = "hello",
    *,
    author: str = "a1",
    minutes: int = 0,
    followers: int = 10,
    brand: str = "acme",
    likes: int = 0,
) -> RawPost:
    """Build a RawPost for tests."""
    return RawPost(
        platform="x",
        external_id=str(i),
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
        author=RawAuthor(platform="x", external_id=author, handle=author, followers=followers),
        brand=brand,
        like_count=likes,
        url=f"https://x.com/{author}/status/{i}",
    )


@pytest.fixture(scope="session")
def demo_db_url(tmp_path_factory) -> str:
    """The demo database built once per test session by `flarewatch demo --no-serve` (real model)."""
    from click.testing import CliRunner

    from flarewatch.cli import cli

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    result = CliRunner().invoke(cli, ["--database-url", url, "demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    return url


def score_down_as_negative(session, model_version: str) -> None:
    """Score every unscored post: negative when it says "down", positive otherwise."""
    scores = [
        {
            "post_id": pid,
            "label": "negative" if "down" in text else "positive",
            "p_negative": 0.9 if "down" in text else 0.05,
            "p_neutral": 0.05,
            "p_positive": 0.05 if "down" in text else 0.9,
        }
        for pid, text in queries.unscored_posts(session, model_version, limit=10_000)
    ]
    queries.save_scores(session, model_version, scores)


# Fixtures that load the real model: every test using one is slow (`make test-fast` skips them).
REAL_MODEL_FIXTURES = frozenset({"demo_db_url", "default_model"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that load the real model through a fixture as slow."""
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
