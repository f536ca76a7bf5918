"""Collect Reddit submissions (search) and new comments in configured subreddits through praw."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import praw
import prawcore

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
from flarewatch.matching import Matcher

REDDIT_URL = "https://www.reddit.com"
OVERLAP_SECONDS = 120  # search indexing lags a little; re-reading a margin catches stragglers
DEFAULT_USER_AGENT = "flarewatch/0.1 (social sentiment monitor)"


def make_client(env: Mapping[str, str] | None = None) -> praw.Reddit:
    """A read-only praw client from `REDDIT_CLIENT_ID` and `REDDIT_CLIENT_SECRET`."""
    environ = dict(env) if env is not None else None
    return praw.Reddit(
        client_id=require_secret("REDDIT_CLIENT_ID", environ),
        client_secret=require_secret("REDDIT_CLIENT_SECRET", environ),
        user_agent=(environ or {}).get("REDDIT_USER_AGENT") or DEFAULT_USER_AGENT,
        check_for_updates=False,
        ratelimit_seconds=0,
    )


def translate(exc: Exception) -> SourceError | None:
    """Map prawcore exceptions to source errors."""
    if isinstance(exc, prawcore.TooManyRequests):
        return RateLimited("reddit: rate limited (429)", headers=exc.response.headers)
    if isinstance(exc, prawcore.ServerError | prawcore.RequestException | prawcore.BadJSON):
        return TransientError(f"reddit: {type(exc).__name__}")
    if isinstance(exc, prawcore.OAuthException | prawcore.Forbidden | prawcore.InvalidToken):
        return PermanentError(
            "reddit: credentials rejected; check REDDIT_CLIENT_ID and "
            "REDDIT_CLIENT_SECRET and that the app is approved"
        )
    if isinstance(exc, prawcore.ResponseException):
        return PermanentError(f"reddit: request rejected ({exc.response.status_code})")
    return None


REMOVED_BODIES = ("[removed]", "[deleted]")


def _data(thing: Any) -> dict[str, Any]:
    """The attributes praw already holds from the listing JSON.

    `getattr` on an attribute a listing lacks makes praw fetch the whole thing, one request
    per post; reading the instance dict never does.
    """
    return vars(thing)


def _author(data: dict[str, Any]) -> RawAuthor | None:
    name = data.get("author_fullname")
    handle = str(data["author"]) if data.get("author") else None
    if not name and not handle:
        return None
    return RawAuthor("reddit", name or handle or "", handle=handle)


def is_removed(data: dict[str, Any], is_comment: bool) -> bool:
    """Whether moderators, Reddit or the author took the post's text down."""
    body = data.get("body" if is_comment else "selftext")
    return bool(data.get("removed_by_category")) or body in REMOVED_BODIES


def _text(data: dict[str, Any], is_comment: bool, removed: bool) -> str:
    if is_comment:
        return "" if removed else str(data.get("body") or "")
    parts = [data.get("title"), None if removed else data.get("selftext")]
    return "\n".join(filter(None, parts))


def permalink(data: dict[str, Any], is_comment: bool) -> str:
    """The post's permalink; 2016-era comment JSON has none, so build it from the ids."""
    if data.get("permalink"):
        return REDDIT_URL + str(data["permalink"])
    subreddit = str(data.get("subreddit") or "all")
    if is_comment:
        link = str(data.get("link_id", "")).removeprefix("t3_")
        return f"{REDDIT_URL}/r/{subreddit}/comments/{link}/_/{data['id']}/"
    return f"{REDDIT_URL}/r/{subreddit}/comments/{data['id']}/"


def _reply_count(data: dict[str, Any], is_comment: bool) -> int:
    # On a comment `num_comments` is the whole submission's count; only its own replies count.
    if is_comment:
        replies = data.get("_replies")
        return len(replies) if isinstance(replies, list) else 0
    return int(data.get("num_comments") or 0)


def thing_to_post(thing: Any) -> RawPost:
    """Normalise a praw Submission or Comment from the data its listing carried."""
    is_comment = isinstance(thing, praw.models.Comment)
    data = _data(thing)
    removed = is_removed(data, is_comment)
    raw = {k: v for k, v in data.items() if not k.startswith("_") and _plain(v)}
    return RawPost(
        platform="reddit",
        external_id=f"{'t1' if is_comment else 't3'}_{data['id']}",
        text=_text(data, is_comment, removed),
        created_at=datetime.fromtimestamp(float(data["created_utc"]), UTC),
        author=_author(data),
        url=permalink(data, is_comment),
        language=None,
        like_count=int(data.get("score") or 0),
        reply_count=_reply_count(data, is_comment),
        reply_to=data.get("parent_id") if is_comment else None,
        removed=removed,
        raw=raw,
    )


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


class RedditCollector:
    """Search (sort=new) or the new-comments listing of subreddits, swept down to a time floor.

    Queries starting with `comments:` scan new comments for `|`-separated terms; any other
    query is a submission search restricted to the subreddits.
    """

    source = "reddit"

    def __init__(
        self,
        reddit: praw.Reddit,
        subreddits: Sequence[str] = ("all",),
        *,
        retry: Retrier | None = None,
        page_size: int = 100,
    ):
        self.reddit, self.subreddits = reddit, "+".join(subreddits) or "all"
        self.retry, self.page_size = retry or Retrier(), page_size

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        """Yield pages newest first down to the floor (a created_utc timestamp)."""
        return sweep(Resume.decode(since), lambda state: self._page(query, state))

    def _listing(self, query: str, params: dict[str, str | int]) -> Any:
        subreddit = self.reddit.subreddit(self.subreddits)
        if query.startswith("comments:"):
            return subreddit.comments(limit=self.page_size, params=params)
        return subreddit.search(query, sort="new", limit=self.page_size, params=params)

    def _page(self, query: str, state: Resume) -> Batch:
        params: dict[str, str | int] = {"after": state.page} if state.page else {}
        listing = self._listing(query, params)
        things = self.retry(lambda: list(listing), translate)
        floor = float(state.floor) - OVERLAP_SECONDS if state.floor else None
        fresh = [t for t in things if floor is None or float(t.created_utc) > floor]
        newest = max((float(t.created_utc) for t in things), default=None)
        more = len(things) == self.page_size and len(fresh) == len(things)
        next_page = things[-1].fullname if more else None
        if query.startswith("comments:"):
            matcher = Matcher.from_spec(query.removeprefix("comments:"))
            fresh = [t for t in fresh if matcher.matches(str(_data(t).get("body") or ""))]
        return Batch([thing_to_post(t) for t in fresh], next_page, str(newest) if newest else None)
