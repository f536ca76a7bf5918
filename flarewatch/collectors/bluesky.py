"""Collect Bluesky posts through atproto's app.bsky.feed.searchPosts (needs a login)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from atproto import Client
from atproto_client import exceptions as atx

from flarewatch.collectors.backoff import (
    PermanentError,
    RateLimited,
    Retrier,
    SourceError,
    TransientError,
)
from flarewatch.collectors.base import Page
from flarewatch.collectors.cursor import Batch, Resume, sweep
from flarewatch.config import require_secret
from flarewatch.domain import RawAuthor, RawPost, parse_time

POST_URL = "https://bsky.app/profile/{handle}/post/{rkey}"
OVERLAP = timedelta(minutes=10)  # `since` compares sortAt; late-indexed posts land slightly below


def login(env: Mapping[str, str] | None = None, client: Client | None = None) -> Client:
    """Log in with `BLUESKY_HANDLE` and `BLUESKY_APP_PASSWORD` (search requires auth)."""
    environ = dict(env) if env is not None else None
    handle = require_secret("BLUESKY_HANDLE", environ)
    password = require_secret("BLUESKY_APP_PASSWORD", environ)
    client = client or Client()
    Retrier()(lambda: client.login(handle, password, fetch_bsky_profile=False), translate)
    return client


def translate(exc: Exception) -> SourceError | None:
    """Map atproto exceptions to source errors."""
    if isinstance(exc, atx.RateLimitExceededError):
        headers = exc.response.headers if exc.response else {}
        return RateLimited("bluesky: rate limited (429)", headers=headers)
    if isinstance(exc, atx.UnauthorizedError):
        return PermanentError(
            "bluesky: login rejected; check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD"
        )
    if isinstance(exc, atx.BadRequestError):
        return PermanentError(f"bluesky: request rejected: {exc}")
    if isinstance(exc, atx.NetworkError | atx.RequestException):
        return TransientError(f"bluesky: request failed ({type(exc).__name__})")
    if isinstance(exc, ValueError | atx.ModelError):
        return TransientError("bluesky: malformed response")
    return None


def _verified(author: Mapping[str, Any]) -> bool:
    return author.get("verification", {}).get("verifiedStatus") == "valid"


def post_to_raw(view: Mapping[str, Any]) -> RawPost:
    """Normalise a PostView (JSON shape, camelCase) from searchPosts."""
    author, record = view["author"], view["record"]
    rkey = view["uri"].rsplit("/", 1)[-1]
    langs = record.get("langs") or [None]
    parent = record.get("reply", {}).get("parent", {}).get("uri")
    return RawPost(
        platform="bluesky",
        external_id=view["uri"],
        text=record.get("text", ""),
        created_at=parse_time(record["createdAt"]),
        author=RawAuthor(
            "bluesky",
            author["did"],
            handle=author.get("handle"),
            display_name=author.get("displayName"),
            verified=_verified(author),
        ),
        url=POST_URL.format(handle=author.get("handle") or author["did"], rkey=rkey),
        language=langs[0],
        like_count=view.get("likeCount", 0),
        repost_count=view.get("repostCount", 0),
        reply_count=view.get("replyCount", 0),
        quote_count=view.get("quoteCount", 0),
        reply_to=parent,
        raw=dict(view),
    )


def _sort_at(view: Mapping[str, Any]) -> datetime:
    return min(parse_time(view["record"]["createdAt"]), parse_time(view["indexedAt"]))


class BlueskyCollector:
    """`searchPosts` sorted by latest, swept with its cursor down to the `since` floor."""

    source = "bluesky"

    def __init__(self, client: Client, *, retry: Retrier | None = None, page_size: int = 100):
        self.client, self.retry, self.page_size = client, retry or Retrier(), page_size

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        """Yield pages newest first; cursors are sortAt timestamps plus a page cursor."""
        return sweep(Resume.decode(since), lambda state: self._page(query, state))

    def _params(self, query: str, state: Resume) -> dict[str, Any]:
        params: dict[str, Any] = {"q": query, "sort": "latest", "limit": self.page_size}
        if state.floor:
            params["since"] = (datetime.fromisoformat(state.floor) - OVERLAP).isoformat()
        if state.page:
            params["cursor"] = state.page
        return params

    def _page(self, query: str, state: Resume) -> Batch:
        params = self._params(query, state)
        response = self.retry(
            lambda: self.client.app.bsky.feed.search_posts(params=params), translate
        )
        views = [
            p.model_dump(mode="json", by_alias=True, exclude_none=True) for p in response.posts
        ]
        newest = max((_sort_at(v) for v in views), default=None)
        return Batch(
            [post_to_raw(v) for v in views], response.cursor, newest.isoformat() if newest else None
        )
