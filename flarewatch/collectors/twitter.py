"""Collect recent posts from X through tweepy's v2 recent search."""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
    "note_tweet",
]
USER_FIELDS = ["username", "name", "public_metrics", "verified", "verified_type"]
EXPANSIONS = ["author_id", "referenced_tweets.id"]
REQUEST_TIMEOUT = 30.0
# Recent search reaches back 7 days; asking from a little later keeps a slow request inside it.
SEARCH_WINDOW = timedelta(days=7)
WINDOW_MARGIN = timedelta(minutes=5)

log = logging.getLogger(__name__)


class SinceIdTooOld(PermanentError):
    """`since_id` fell out of recent search's 7-day window (X answers 400)."""


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
    if isinstance(exc, tweepy.BadRequest) and _since_id_too_old(exc):
        return SinceIdTooOld(f"x: {'; '.join(exc.api_messages)}")
    if isinstance(exc, tweepy.HTTPException):
        return PermanentError(f"x: request rejected ({exc.response.status_code}): {exc}")
    if isinstance(exc, requests.Timeout | requests.ConnectionError):
        return TransientError(f"x: network error ({type(exc).__name__})")
    if isinstance(exc, ValueError):
        return TransientError("x: malformed JSON in response")
    return None


def _since_id_too_old(exc: tweepy.HTTPException) -> bool:
    return any(
        "since_id" in m and "must be a tweet id created after" in m for m in exc.api_messages
    )


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


def full_text(tweet: Mapping[str, Any]) -> str:
    """The whole text: a long post's `note_tweet`, else `text`; X's &amp; &lt; &gt; decoded once."""
    note = tweet.get("note_tweet") or {}
    return html.unescape(str(note.get("text") or tweet.get("text") or ""))


def _referenced(tweet: Mapping[str, Any], kind: str) -> str | None:
    ids = [str(r["id"]) for r in tweet.get("referenced_tweets") or [] if r.get("type") == kind]
    return ids[0] if ids else None


def _quoted(quote_of: str | None, tweets: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    quoted = tweets.get(quote_of) if quote_of else None
    if quoted is None:
        return None
    return {"id": quote_of, "author_id": quoted.get("author_id"), "text": full_text(quoted)}


def tweet_to_post(
    tweet: Mapping[str, Any],
    users: Mapping[str, Mapping[str, Any]],
    tweets: Mapping[str, Mapping[str, Any]] | None = None,
) -> RawPost:
    """Normalise a v2 tweet; its author is looked up in `includes.users`, a quoted post in
    `includes.tweets` (kept in `raw["quoted"]`)."""
    user = users.get(str(tweet.get("author_id")))
    metrics = tweet.get("public_metrics", {})
    handle = user.get("username") if user else None
    quote_of = _referenced(tweet, "quoted")
    return RawPost(
        platform="x",
        external_id=str(tweet["id"]),
        text=full_text(tweet),
        created_at=datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00")),
        author=user_to_author(user) if user else None,
        url=f"https://x.com/{handle or 'i/web'}/status/{tweet['id']}",
        language=tweet.get("lang"),
        like_count=metrics.get("like_count", 0),
        repost_count=metrics.get("retweet_count", 0),
        reply_count=metrics.get("reply_count", 0),
        quote_count=metrics.get("quote_count", 0),
        reply_to=_referenced(tweet, "replied_to"),
        quote_of=quote_of,
        raw={
            "tweet": dict(tweet),
            "user": dict(user) if user else None,
            "quoted": _quoted(quote_of, tweets or {}),
        },
    )


@dataclass
class _Window:
    """Where one sweep starts when its `since_id` fell out of the 7-day window."""

    start_time: datetime | None = None
    # A page token of the sweep that used the old since_id; it does not fit the new query.
    stale_page: str | None = None


class XCollector:
    """Recent search (last 7 days) with `since_id` and `next_token` pagination.

    A `since_id` older than the window (after a quiet week or a long stop) gets a 400; the
    sweep then starts at the window's edge instead, logs the gap and carries on.
    """

    source = "x"

    def __init__(
        self,
        client: tweepy.Client,
        *,
        retry: Retrier | None = None,
        page_size: int = 100,
        clock: Callable[[], float] = time.time,
    ):
        self.client, self.retry, self.page_size = client, retry or Retrier(), page_size
        self.clock = clock

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        """Yield pages newest first; the cursor resumes a half-done sweep."""
        window = _Window()
        return sweep(Resume.decode(since), lambda state: self._page(query, state, window))

    def _page(self, query: str, state: Resume, window: _Window) -> Batch:
        try:
            response = self._fetch(query, state, window)
        except SinceIdTooOld as exc:
            window.start_time, window.stale_page = self._window_start(), state.page
            log.warning(
                "x: %s; searching from %s instead: posts after since_id %s and before then "
                "are not fetched",
                exc,
                window.start_time.isoformat(),
                state.floor,
            )
            response = self._fetch(query, state, window)
        if not isinstance(response, dict):
            raise TransientError("x: malformed JSON in response")
        includes = response.get("includes", {})
        users = {str(u["id"]): u for u in includes.get("users", [])}
        tweets = {str(t["id"]): t for t in includes.get("tweets", [])}
        posts = [tweet_to_post(t, users, tweets) for t in response.get("data", [])]
        meta = response.get("meta", {})
        return Batch(posts, meta.get("next_token"), meta.get("newest_id"))

    def _window_start(self) -> datetime:
        now = datetime.fromtimestamp(self.clock(), UTC).replace(microsecond=0)
        return now - SEARCH_WINDOW + WINDOW_MARGIN

    def _fetch(self, query: str, state: Resume, window: _Window) -> Any:
        return self.retry(lambda: self._search(query, state, window), translate)

    def _search(self, query: str, state: Resume, window: _Window) -> Any:
        since = (
            {"start_time": window.start_time} if window.start_time else {"since_id": state.floor}
        )
        page = None if window.stale_page and state.page == window.stale_page else state.page
        return self.client.search_recent_tweets(
            query,
            **since,
            next_token=page,
            max_results=self.page_size,
            expansions=EXPANSIONS,
            tweet_fields=TWEET_FIELDS,
            user_fields=USER_FIELDS,
        )
