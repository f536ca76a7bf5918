"""Collect recent posts from X through tweepy's v2 recent search."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter

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
from flarewatch.domain import RawAuthor, RawPost

TWEET_FIELDS = [
    "created_at",
    "lang",
    "public_metrics",
    "author_id",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
]
USER_FIELDS = ["username", "name", "public_metrics", "verified", "verified_type"]
REQUEST_TIMEOUT = 30.0


class _TimeoutAdapter(HTTPAdapter):
    """tweepy passes no timeout to requests; without one a stalled socket hangs forever."""

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["timeout"] = kwargs.get("timeout") or REQUEST_TIMEOUT
        return super().send(request, **kwargs)


def make_client(env: Mapping[str, str] | None = None) -> tweepy.Client:
    """Build a tweepy v2 client from `X_BEARER_TOKEN` that raises on rate limits."""
    token = require_secret("X_BEARER_TOKEN", dict(env) if env is not None else None)
    client = tweepy.Client(bearer_token=token, return_type=dict, wait_on_rate_limit=False)
    client.session.mount("https://", _TimeoutAdapter())
    return client


def translate(exc: Exception) -> SourceError | None:
    """Map tweepy and requests exceptions to source errors."""
    if isinstance(exc, tweepy.TooManyRequests):
        return RateLimited("x: rate limited (429)", headers=exc.response.headers)
    if isinstance(exc, tweepy.TwitterServerError):
        return TransientError(f"x: server error ({exc.response.status_code})")
    if isinstance(exc, tweepy.Unauthorized | tweepy.Forbidden):
        return PermanentError(
            f"x: credentials rejected ({exc.response.status_code}); "
            "check X_BEARER_TOKEN and that the app has search access"
        )
    if isinstance(exc, tweepy.HTTPException):
        return PermanentError(f"x: request rejected ({exc.response.status_code}): {exc}")
    if isinstance(exc, requests.Timeout | requests.ConnectionError):
        return TransientError(f"x: network error ({type(exc).__name__})")
    if isinstance(exc, ValueError):
        return TransientError("x: malformed JSON in response")
    return None


def _verified(user: Mapping[str, Any]) -> bool:
    return bool(user.get("verified")) or user.get("verified_type") in (
        "blue",
        "business",
        "government",
    )


def user_to_author(user: Mapping[str, Any]) -> RawAuthor:
    """Normalise a v2 user object."""
    return RawAuthor(
        platform="x",
        external_id=str(user["id"]),
        handle=user.get("username"),
        display_name=user.get("name"),
        followers=user.get("public_metrics", {}).get("followers_count"),
        verified=_verified(user),
    )


def tweet_to_post(tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> RawPost:
    """Normalise a v2 tweet object, its author looked up in `includes.users`."""
    user = users.get(str(tweet.get("author_id")))
    metrics = tweet.get("public_metrics", {})
    replied = [r["id"] for r in tweet.get("referenced_tweets", []) if r.get("type") == "replied_to"]
    handle = user.get("username") if user else None
    return RawPost(
        platform="x",
        external_id=str(tweet["id"]),
        text=tweet["text"],
        created_at=datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00")),
        author=user_to_author(user) if user else None,
        url=f"https://x.com/{handle or 'i/web'}/status/{tweet['id']}",
        language=tweet.get("lang"),
        like_count=metrics.get("like_count", 0),
        repost_count=metrics.get("retweet_count", 0),
        reply_count=metrics.get("reply_count", 0),
        quote_count=metrics.get("quote_count", 0),
        reply_to=replied[0] if replied else None,
        raw={"tweet": dict(tweet), "user": dict(user) if user else None},
    )


class XCollector:
    """Recent search (last 7 days) with `since_id` and `next_token` pagination."""

    source = "x"

    def __init__(
        self, client: tweepy.Client, *, retry: Retrier | None = None, page_size: int = 100
    ):
        self.client, self.retry, self.page_size = client, retry or Retrier(), page_size

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        """Yield pages newest first; the cursor resumes a half-done sweep."""
        return sweep(Resume.decode(since), lambda state: self._page(query, state))

    def _page(self, query: str, state: Resume) -> Batch:
        response = self.retry(lambda: self._search(query, state), translate)
        if not isinstance(response, dict):
            raise TransientError("x: malformed JSON in response")
        users = {str(u["id"]): u for u in response.get("includes", {}).get("users", [])}
        posts = [tweet_to_post(t, users) for t in response.get("data", [])]
        meta = response.get("meta", {})
        return Batch(posts, meta.get("next_token"), meta.get("newest_id"))

    def _search(self, query: str, state: Resume) -> Any:
        return self.client.search_recent_tweets(
            query,
            since_id=state.floor,
            next_token=state.page,
            max_results=self.page_size,
            expansions=["author_id"],
            tweet_fields=TWEET_FIELDS,
            user_fields=USER_FIELDS,
        )
