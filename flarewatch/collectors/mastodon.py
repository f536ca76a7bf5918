"""Collect Mastodon statuses through Mastodon.py: hashtag timelines and search, per instance."""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mastodon import Mastodon
from mastodon import errors as mx

from flarewatch.collectors.backoff import (
    PermanentError,
    RateLimited,
    Retrier,
    SourceError,
    TransientError,
)
from flarewatch.collectors.base import Page
from flarewatch.collectors.cursor import newest_id
from flarewatch.collectors.watch import mastodon_token_var
from flarewatch.config import require_secret
from flarewatch.domain import RawAuthor, RawPost, parse_time

TAG_RE = re.compile(r"<[^>]+>")
BREAK_RE = re.compile(r"</p>\s*<p>|<br\s*/?>")
PAGE_SIZE = 40  # Mastodon's maximum for timelines and search


def make_client(instance: str, *, token: str | None = None) -> Mastodon:
    """A Mastodon.py client for one instance that raises on rate limits instead of sleeping."""
    return Mastodon(
        api_base_url=f"https://{instance}",
        access_token=token,
        ratelimit_method="throw",
        version_check_mode="none",
        request_timeout=30,
    )


def client_factory(env: Mapping[str, str], *, search: bool) -> Callable[[str], Mastodon]:
    """Return instance -> client; search needs `MASTODON_TOKEN_<INSTANCE>`, hashtags need none."""

    def build(instance: str) -> Mastodon:
        name = mastodon_token_var(instance)
        token = require_secret(name, dict(env)) if search else env.get(name)
        return make_client(instance, token=token)

    return build


def _translator(client: Mastodon) -> Callable[[Exception], SourceError | None]:
    def translate(exc: Exception) -> SourceError | None:
        if isinstance(exc, mx.MastodonRatelimitError):
            reset = getattr(client, "ratelimit_reset", None)
            return RateLimited(
                "mastodon: rate limited",
                headers={"x-rate-limit-reset": str(reset)} if reset else None,
            )
        if isinstance(exc, mx.MastodonUnauthorizedError):
            return PermanentError("mastodon: token rejected (401); check MASTODON_TOKEN_<INSTANCE>")
        if isinstance(exc, mx.MastodonServerError | mx.MastodonNetworkError):
            return TransientError(f"mastodon: {type(exc).__name__}")
        if isinstance(exc, mx.MastodonAPIError) and "JSON" in str(exc):
            return TransientError("mastodon: malformed JSON in response")
        if isinstance(exc, mx.MastodonAPIError):
            return PermanentError(f"mastodon: request rejected: {exc}")
        return None

    return translate


def _jsonable(status: Any) -> dict[str, Any]:
    return json.loads(json.dumps(status, default=str))


def status_to_post(status: Mapping[str, Any]) -> RawPost:
    """Normalise a status; its ActivityPub `uri` is the id, the same from every instance."""
    account = status["account"]
    content = BREAK_RE.sub("\n", str(status.get("content", "")))
    text = html.unescape(TAG_RE.sub("", content))
    return RawPost(
        platform="mastodon",
        external_id=str(status["uri"]),
        text=text.strip(),
        created_at=parse_time(str(status["created_at"])),
        author=RawAuthor(
            "mastodon",
            str(account.get("url") or account["id"]),
            handle=account.get("acct"),
            display_name=account.get("display_name"),
            followers=account.get("followers_count"),
        ),
        url=status.get("url") or status["uri"],
        language=status.get("language"),
        like_count=status.get("favourites_count", 0),
        repost_count=status.get("reblogs_count", 0),
        reply_count=status.get("replies_count", 0),
        reply_to=str(status["in_reply_to_id"]) if status.get("in_reply_to_id") else None,
        raw=_jsonable(status),
    )


def parse_query(query: str) -> tuple[str, str]:
    """Split `#tag@instance` or `term@instance` into (what, instance)."""
    what, sep, instance = query.rpartition("@")
    if not sep or not what or not instance:
        raise ValueError(f"mastodon query {query!r}: expected '#tag@instance' or 'term@instance'")
    return what, instance


class MastodonCollector:
    """Walks forward with `min_id`, so every page's cursor is simply its newest id."""

    source = "mastodon"

    def __init__(self, client_for: Callable[[str], Mastodon], *, retry: Retrier | None = None):
        self.client_for, self.retry = client_for, retry or Retrier()
        self._clients: dict[str, Mastodon] = {}

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        """Yield pages oldest first after `since` (a status id); the first run takes the newest page."""
        what, instance = parse_query(query)
        client = self._clients.setdefault(instance, self.client_for(instance))
        cursor = since
        while True:
            request = functools.partial(self._request, client, what, cursor)
            statuses = self.retry(request, _translator(client))
            if not statuses:
                return
            cursor = newest_id([str(s["id"]) for s in statuses])
            yield Page([status_to_post(s) for s in statuses], cursor)
            if since is None:
                return

    def _request(self, client: Mastodon, what: str, min_id: str | None) -> list[Any]:
        if what.startswith("#"):
            return list(client.timeline_hashtag(what[1:], min_id=min_id, limit=PAGE_SIZE))
        result = client.search_v2(
            what, result_type="statuses", min_id=min_id, limit=PAGE_SIZE, resolve=False
        )
        return list(result["statuses"])
