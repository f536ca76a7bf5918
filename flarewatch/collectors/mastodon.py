"""Collect Mastodon statuses through Mastodon.py: hashtag timelines and search, per instance."""

from __future__ import annotations

import dataclasses
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
from flarewatch.config import ConfigError, require_secret
from flarewatch.domain import RawAuthor, RawPost, parse_time

TAG_RE = re.compile(r"<[^>]+>")
BREAK_RE = re.compile(r"</p>\s*<p>|<br\s*/?>")
PAGE_SIZE = 40  # Mastodon's maximum for timelines and search
# An instance's whole public timeline, or only its local accounts' (streams, gap fills).
TIMELINES = ("timeline:public", "timeline:local")


def make_client(instance: str, *, token: str | None = None) -> Mastodon:
    """A Mastodon.py client for one instance that raises on rate limits instead of sleeping.

    `instance` is a host name (https), or a whole base URL such as `http://127.0.0.1:3000`.
    """
    return Mastodon(
        api_base_url=instance if "://" in instance else f"https://{instance}",
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
        if isinstance(exc, mx.MastodonVersionError) and exc.__cause__ is not None:
            # The version check failed because the instance did: an outage, not a bad request.
            cause = translate(exc.__cause__) if isinstance(exc.__cause__, Exception) else None
            if cause is not None:
                return cause
            return TransientError("mastodon: instance version check failed")
        if isinstance(exc, mx.MastodonAPIError) and "JSON" in str(exc):
            return TransientError("mastodon: malformed JSON in response")
        if isinstance(exc, mx.MastodonAPIError):
            return PermanentError(f"mastodon: request rejected: {exc}")
        return None

    return translate


def _jsonable(status: Any) -> dict[str, Any]:
    return json.loads(json.dumps(status, default=str))


def html_to_text(content: str) -> str:
    """Plain text of a status' HTML content: paragraphs and breaks become newlines."""
    return html.unescape(TAG_RE.sub("", BREAK_RE.sub("\n", content))).strip()


def status_text(status: Mapping[str, Any]) -> str:
    """The text, its content warning first ("CW: …"), since the warning is part of what it says."""
    text = html_to_text(str(status.get("content") or ""))
    warning = str(status.get("spoiler_text") or "").strip()
    return f"CW: {warning}\n\n{text}" if warning else text


def full_acct(account: Mapping[str, Any], instance: str) -> str:
    """`user@instance` always: a local account's `acct` is the bare name on the instance asked."""
    acct = str(account.get("acct") or account.get("username") or "")
    return acct if "@" in acct else f"{acct}@{instance}"


def _author(account: Mapping[str, Any], instance: str) -> RawAuthor:
    return RawAuthor(
        "mastodon",
        str(account.get("url") or account["id"]),
        handle=full_acct(account, instance),
        display_name=account.get("display_name"),
        followers=account.get("followers_count"),
    )


def status_to_post(
    status: Mapping[str, Any], instance: str, parent_uri: str | None = None
) -> RawPost:
    """Normalise a status; its ActivityPub `uri` is the id, the same from every instance.

    A boost is stored as the boosted status (its reblog count is the amplification), never
    as a new post of the booster; `parent_uri` is the `uri` of the status it replies to.
    """
    boosted = status.get("reblog")
    if boosted:
        original = status_to_post(boosted, instance, parent_uri)
        booster = full_acct(status["account"], instance)
        return dataclasses.replace(original, raw={**original.raw, "boosted_by": booster})
    return RawPost(
        platform="mastodon",
        external_id=str(status["uri"]),
        text=status_text(status),
        created_at=parse_time(str(status["created_at"])),
        author=_author(status["account"], instance),
        url=status.get("url") or status["uri"],
        language=status.get("language"),
        like_count=status.get("favourites_count", 0),
        repost_count=status.get("reblogs_count", 0),
        reply_count=status.get("replies_count", 0),
        reply_to=parent_uri,
        raw=_jsonable(status),
    )


def _reply_parent(status: Mapping[str, Any]) -> str | None:
    inner = status.get("reblog") or status
    parent = inner.get("in_reply_to_id")
    return str(parent) if parent else None


def parse_query(query: str) -> tuple[str, str]:
    """Split `#tag@instance`, `term@instance` or `from:user@instance` into (what, instance)."""
    what, sep, instance = query.rpartition("@")
    if not sep or not what or not instance:
        raise ConfigError(f"mastodon query {query!r}: expected '#tag@instance' or 'term@instance'")
    return what, instance


class MastodonCollector:
    """Walks forward with `min_id`, so every page's cursor is simply its newest id."""

    source = "mastodon"

    def __init__(self, client_for: Callable[[str], Mastodon], *, retry: Retrier | None = None):
        self.client_for, self.retry = client_for, retry or Retrier()
        self._clients: dict[str, Mastodon] = {}
        self._checked: set[str] = set()

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        """Yield pages oldest first after `since` (a status id); the first run takes the newest page."""
        what, instance = parse_query(query)
        client = self._clients.setdefault(instance, self.client_for(instance))
        if not what.startswith(("#", "from:", "timeline:")):
            self._check_version(client, instance)
        cursor, uris = since, StatusUris(client, self.retry)
        while True:
            request = functools.partial(self._request, client, what, cursor)
            statuses = self.retry(request, _translator(client))
            if not statuses:
                return
            cursor = newest_id([str(s["id"]) for s in statuses])
            yield Page(statuses_to_posts(instance, statuses, uris), cursor)
            if since is None:
                return

    def _check_version(self, client: Mastodon, instance: str) -> None:
        # Without a known version, Mastodon.py's search re-checks it on every call, and while
        # the instance endpoints fail that check recurses (two requests a level) until
        # RecursionError. One hard check up front fails fast and is retried with backoff.
        if instance not in self._checked:
            self.retry(
                lambda: client.retrieve_mastodon_version(fail_hard=True), _translator(client)
            )
            self._checked.add(instance)

    def _request(self, client: Mastodon, what: str, min_id: str | None) -> list[Any]:
        if what in TIMELINES:
            local = what == "timeline:local"
            return list(client.timeline_public(min_id=min_id, limit=PAGE_SIZE, local=local))
        if what.startswith("from:"):
            account = client.account_lookup(what.removeprefix("from:"))
            statuses = client.account_statuses(
                account["id"], min_id=min_id, limit=PAGE_SIZE, exclude_reblogs=True
            )
            return list(statuses)
        if what.startswith("#"):
            return list(client.timeline_hashtag(what[1:], min_id=min_id, limit=PAGE_SIZE))
        result = client.search_v2(
            what, result_type="statuses", min_id=min_id, limit=PAGE_SIZE, resolve=False
        )
        return list(result["statuses"])


class StatusUris:
    """Status id on one instance -> ActivityPub `uri`, from the statuses seen or looked up."""

    def __init__(self, client: Mastodon, retry: Retrier, max_known: int = 100_000):
        self.client, self.retry, self.max_known = client, retry, max_known
        self.known: dict[str, str | None] = {}

    def learn(self, statuses: list[Any]) -> None:
        """Remember the `uri` of every status on a page (and of boosted ones)."""
        if len(self.known) > self.max_known:  # a long-lived stream must not grow without end
            self.known.clear()
        for status in statuses:
            inner = status.get("reblog") or status
            self.known[str(inner["id"])] = str(inner["uri"])

    def of(self, status_id: str | None) -> str | None:
        """The `uri` of `status_id`, looked up once when it was not on a page."""
        if status_id is None:
            return None
        if status_id not in self.known:
            lookup = functools.partial(_status_uri, self.client, status_id)
            self.known[status_id] = self.retry(lookup, _translator(self.client))
        return self.known[status_id]


def statuses_to_posts(instance: str, statuses: list[Any], uris: StatusUris) -> list[RawPost]:
    """Normalise statuses of `instance`, replies pointing at their parent's `uri`."""
    uris.learn(statuses)
    return [status_to_post(s, instance, uris.of(_reply_parent(s))) for s in statuses]


def _status_uri(client: Mastodon, status_id: str) -> str | None:
    """The parent's `uri`, or None when it is gone or not visible (404)."""
    try:
        return str(client.status(status_id)["uri"])
    except mx.MastodonNotFoundError:
        return None
