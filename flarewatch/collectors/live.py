"""What the request-based streams (Mastodon, X) hand the ingest: posts with cursors, deletes, states."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from flarewatch.collectors.watch import Query
from flarewatch.domain import RawPost


@dataclass(frozen=True)
class Received:
    """Posts of one query, and the cursor of `key` once they are stored (None: unchanged).

    `sent_at` (epoch seconds) is when the platform says a streamed event happened: the stream's
    lag is measured from it. Gap fills leave it None (old posts are not lag).
    """

    key: str
    query: Query
    posts: list[RawPost]
    cursor: str | None
    sent_at: float | None = None


@dataclass(frozen=True)
class Removed:
    """Authors deleted these posts (external ids on `platform`)."""

    platform: str
    external_ids: list[str]


@dataclass(frozen=True)
class State:
    """The stream's connection state (connected, reconnecting, polling) and the error, if any."""

    state: str
    error: str | None = None


LiveEvent = Received | Removed | State
Emit = Callable[[LiveEvent], None]


class LiveStream(Protocol):
    """A blocking stream client: runs until `stop` is set, handing every event to `emit`."""

    source: str

    @property
    def keys(self) -> list[str]:
        """The cursor keys the stream resumes from."""
        ...

    def run(self, emit: Emit, cursors: Mapping[str, str | None], stop: threading.Event) -> None:
        """Listen (reconnecting, filling gaps) until `stop`; `cursors` are the stored ones."""
        ...


@dataclass(frozen=True)
class Reconnect:
    """Exponential backoff with jitter between connection attempts, capped."""

    backoff_s: float = 1.0
    max_backoff_s: float = 60.0

    def wait(self, stop: threading.Event, failures: int) -> None:
        """Sleep before attempt `failures + 1`, returning early when `stop` is set."""
        delay = min(self.max_backoff_s, self.backoff_s * 2 ** max(0, failures - 1))
        stop.wait(delay * random.uniform(0.5, 1.0))  # many monitors must not reconnect in step
