"""Collect Hacker News stories and comments through the Algolia search API over httpx."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from flarewatch.collectors.backoff import Retrier, SourceError, TransientError, http_error
from flarewatch.collectors.base import Page
from flarewatch.collectors.cursor import Batch, Resume, sweep
from flarewatch.domain import RawAuthor, RawPost

API_URL = "https://hn.algolia.com/api/v1/"
ITEM_URL = "https://news.ycombinator.com/item?id={}"
OVERLAP_SECONDS = 300  # Algolia indexes with a delay; re-reading a margin catches late items.
TAG_RE = re.compile(r"<[^>]+>")


def translate(exc: Exception) -> SourceError | None:
    """Map httpx exceptions to source errors."""
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        return http_error(response.status_code, response.headers, "hackernews")
    if isinstance(exc, httpx.TimeoutException | httpx.TransportError):
        return TransientError(f"hackernews: network error ({type(exc).__name__})")
    if isinstance(exc, ValueError):
        return TransientError("hackernews: malformed JSON in response")
    return None


def _text(hit: Mapping[str, Any]) -> str:
    if "comment" in hit.get("_tags", []):
        body = hit.get("comment_text") or ""
    else:
        body = "\n".join(filter(None, [hit.get("title"), hit.get("story_text")]))
    return html.unescape(TAG_RE.sub("", body.replace("<p>", "\n"))).strip()


def hit_to_post(hit: Mapping[str, Any]) -> RawPost:
    """Normalise one Algolia hit (a story or a comment)."""
    is_comment = "comment" in hit.get("_tags", [])
    author = hit.get("author")
    return RawPost(
        platform="hackernews",
        external_id=str(hit["objectID"]),
        text=_text(hit),
        created_at=datetime.fromtimestamp(int(hit["created_at_i"]), UTC),
        author=RawAuthor("hackernews", author, handle=author) if author else None,
        url=ITEM_URL.format(hit["objectID"]),
        language=None,
        like_count=int(hit.get("points") or 0),
        reply_count=int(hit.get("num_comments") or 0),
        reply_to=str(hit["parent_id"]) if is_comment and hit.get("parent_id") else None,
        raw={k: v for k, v in hit.items() if k != "_highlightResult"},
    )


class HNCollector:
    """`search_by_date` over stories and comments, swept newest first by timestamp."""

    source = "hackernews"

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        retry: Retrier | None = None,
        page_size: int = 100,
    ):
        self.client = client or httpx.Client(base_url=API_URL, timeout=30.0)
        self.retry, self.page_size = retry or Retrier(), page_size

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        """Yield pages newest first; each next page asks for hits at or below the last one."""
        return sweep(Resume.decode(since), lambda state: self._page(query, state))

    def _params(self, query: str, state: Resume) -> dict[str, Any]:
        filters = []
        if state.floor:
            filters.append(f"created_at_i>{int(state.floor) - OVERLAP_SECONDS}")
        if state.page:
            filters.append(f"created_at_i<={state.page}")
        params: dict[str, Any] = {
            "query": query.strip('"'),
            "tags": "(story,comment)",
            "hitsPerPage": self.page_size,
        }
        if filters:
            params["numericFilters"] = ",".join(filters)
        return params

    def _page(self, query: str, state: Resume) -> Batch:
        body = self.retry(
            lambda: self._get("search_by_date", self._params(query, state)), translate
        )
        hits = body.get("hits") if isinstance(body, dict) else None
        if not isinstance(hits, list):
            raise TransientError("hackernews: response has no hits list")
        posts = [hit_to_post(h) for h in hits]
        stamps = [int(h["created_at_i"]) for h in hits]
        return Batch(posts, self._next_page(stamps, state), str(max(stamps)) if stamps else None)

    def _next_page(self, stamps: list[int], state: Resume) -> str | None:
        if len(stamps) < self.page_size:
            return None
        lowest = min(stamps)
        # Inclusive bound: posts sharing the last second show up again and are deduplicated;
        # a page made of one single second must still move on.
        if state.page is not None and lowest >= int(state.page):
            lowest = int(state.page) - 1
        return str(lowest)

    def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()
