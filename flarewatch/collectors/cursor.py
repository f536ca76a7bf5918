"""Resumable sweep state for newest-first APIs, so a cursor never skips an unsaved page."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from flarewatch.collectors.base import Page
from flarewatch.domain import RawPost


@dataclass(frozen=True)
class Resume:
    """Where collection of one query stands.

    Newest-first APIs are swept from the top down to `floor`. Only when a sweep reaches
    the bottom does `floor` rise to `top`; until then every saved page stores `page`, the
    token that continues the sweep, so a crash resumes it instead of skipping the rest.

    Args:
        floor: High-water mark below which everything is stored (id or timestamp).
        top: High-water mark of the sweep in progress, taken from its first page.
        page: Pagination token that continues the sweep in progress.
    """

    floor: str | None = None
    top: str | None = None
    page: str | None = None

    def encode(self) -> str:
        """Serialise to the string stored as the collector cursor."""
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)

    @classmethod
    def decode(cls, cursor: str | None) -> Resume:
        """Read a stored cursor; a plain string is taken as a floor."""
        if not cursor:
            return cls()
        if not cursor.startswith("{"):
            return cls(floor=cursor)
        data = json.loads(cursor)
        return cls(floor=data.get("floor"), top=data.get("top"), page=data.get("page"))


@dataclass(frozen=True)
class Batch:
    """One API response: its posts, the token of the next page and its newest mark."""

    posts: list[RawPost]
    next_page: str | None
    newest: str | None


def sweep(state: Resume, fetch_page: Callable[[Resume], Batch]) -> Iterator[Page]:
    """Yield pages of a newest-first sweep, each carrying the cursor to resume after it."""
    while True:
        batch = fetch_page(state)
        top = state.top or batch.newest or state.floor
        if batch.next_page is None:
            yield Page(batch.posts, Resume(floor=top).encode())
            return
        state = Resume(floor=state.floor, top=top, page=batch.next_page)
        yield Page(batch.posts, state.encode())


def newest_id(ids: list[str]) -> str | None:
    """Return the largest of snowflake-like ids (longer is newer, then lexical order)."""
    return max(ids, key=lambda i: (len(i), i), default=None)
