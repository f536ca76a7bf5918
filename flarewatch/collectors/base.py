"""The Collector protocol every source implements, and the page of posts it yields."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from flarewatch.domain import RawAuthor, RawPost

__all__ = ["Collector", "Page", "RawAuthor", "RawPost"]


@dataclass(frozen=True)
class Page:
    """A batch of posts from one fetch, with the cursor to resume after it."""

    posts: list[RawPost]
    cursor: str | None


@runtime_checkable
class Collector(Protocol):
    """A source of posts: live API clients and replays implement the same protocol."""

    source: str

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        """Yield pages of posts matching `query` newer than cursor `since`."""
        ...
