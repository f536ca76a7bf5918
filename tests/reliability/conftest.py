"""Fixtures for multi-process tests: a database URL other processes can open, on both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine

from flarewatch.storage.engine import make_engine, upgrade

from ..conftest import BACKENDS, POSTGRES_URL, postgres_schema

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Database:
    """A migrated database and the URL a subprocess uses to reach the same data."""

    url: str
    engine: Engine


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh database on each backend, reachable by URL from other processes."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'flarewatch.db'}"
        yield from _migrated(url)
        return
    with postgres_schema() as schema:
        yield from _migrated(f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}")


def _migrated(url: str) -> Iterator[Database]:
    engine = make_engine(url)
    upgrade(engine)
    yield Database(url, engine)
    engine.dispose()


def start(module: str, *args: str) -> subprocess.Popen[str]:
    """Start `python -m tests.helpers.<module> ARGS` from the repository root."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", f"tests.helpers.{module}", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> dict[str, object]:
    """Wait for a helper process and return the JSON line it printed."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]))


def wait_until(condition: Callable[[], bool], timeout: float = 60, step: float = 0.05) -> None:
    """Poll `condition` until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(step)
