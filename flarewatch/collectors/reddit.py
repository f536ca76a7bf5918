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


def _author(thing: Any) -> RawAuthor | None:
    name = getattr(thing, "author_fullname", None)
    handle = str(thing.author) if getattr(thing, "author", None) else None
    if not name and not handle:
        return None
    return RawAuthor("reddit", name or handle or "", handle=handle)


def thing_to_post(thing: Any) -> RawPost:
    """Normalise a praw Submission or Comment."""
    is_comment = isinstance(thing, praw.models.Comment)
    text = thing.body if is_comment else "\n".join(filter(None, [thing.title, thing.selftext]))
    raw = {k: v for k, v in vars(thing).items() if not k.startswith("_") and _plain(v)}
    return RawPost(
        platform="reddit",
        external_id=thing.fullname,
        text=text,
        created_at=datetime.fromtimestamp(float(thing.created_utc), UTC),
        author=_author(thing),
        url=REDDIT_URL + thing.permalink,
        language=None,
        like_count=int(thing.score or 0),
        reply_count=int(getattr(thing, "num_comments", 0) or 0),
        reply_to=thing.parent_id if is_comment else None,
        raw=raw,
    )


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


def matches(text: str, terms: Sequence[str]) -> bool:
    """Whether `text` mentions any of `terms`, ignoring case."""
    lowered = text.lower()
    return any(term.lower() in lowered for term in terms)


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
            fresh = [
                t for t in fresh if matches(t.body, query.removeprefix("comments:").split("|"))
            ]
        return Batch([thing_to_post(t) for t in fresh], next_page, str(newest) if newest else None)
