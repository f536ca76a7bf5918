"""Run a stream listener in its own thread and event loop until a condition holds, then stop it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, select

from flarewatch.storage.engine import session_scope
from flarewatch.storage.schema import Post


@contextmanager
def listening(listener: Any) -> Iterator[None]:
    """Run `listener` in a thread's event loop for the block, then stop it (it saves and returns)."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=lambda: loop.run_until_complete(listener.run(stop)))
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        loop.close()
    assert not thread.is_alive()


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll `condition` until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def stored(engine: Engine) -> dict[str, tuple[str, bool, str | None]]:
    """external_id -> (text, removed, brand) of every stored post."""
    with session_scope(engine) as session:
        rows = session.execute(select(Post.external_id, Post.text, Post.removed, Post.brand)).all()
    return {r.external_id: (r.text, r.removed, r.brand) for r in rows}
