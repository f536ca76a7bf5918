"""Publish to Bluesky with atproto's `send_post`: links as facets, threads as replies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atproto import Client, client_utils, models
from atproto_client import exceptions as atx

from flarewatch.actions.base import Outbound, Published, PublishError, same_text
from flarewatch.actions.limits import URL
from flarewatch.config import require_secret

POST_URL = "https://bsky.app/profile/{handle}/post/{rkey}"
# The brand's own account signs in with an app password of its own (not the reading account's).
PASSWORD_VAR = "BLUESKY_PUBLISH_APP_PASSWORD"
RECENT = 20


def make_client(handle: str, env: Mapping[str, str], client: Client | None = None) -> Client:
    """Log in as `handle` with BLUESKY_PUBLISH_APP_PASSWORD."""
    client = client or Client()
    password = require_secret(PASSWORD_VAR, dict(env))
    try:
        client.login(handle, password, fetch_bsky_profile=False)
    except Exception as exc:
        raise translate(exc) from exc
    return client


def rich_text(text: str) -> client_utils.TextBuilder:
    """`text` with every URL as a link facet (Bluesky shows bare text otherwise)."""
    builder, last = client_utils.TextBuilder(), 0
    for match in URL.finditer(text):
        builder.text(text[last : match.start()]).link(match.group(), match.group())
        last = match.end()
    return builder.text(text[last:])


def translate(exc: Exception) -> PublishError:
    """One PublishError for whatever the PDS or the network answered."""
    if isinstance(exc, atx.RateLimitExceededError):
        headers = exc.response.headers if exc.response else {}
        reset = headers.get("ratelimit-reset") or headers.get("RateLimit-Reset")
        return PublishError("bluesky", "rate_limited", "429", retry_after=_float(reset))
    if isinstance(exc, atx.UnauthorizedError):
        return PublishError("bluesky", "unauthorized", f"check {PASSWORD_VAR}")
    if isinstance(exc, atx.BadRequestError):
        status = exc.response.status_code if exc.response else None
        reason = "forbidden" if status == 403 else "rejected"
        return PublishError("bluesky", reason, _message(exc))
    if isinstance(exc, atx.NetworkError | atx.InvokeTimeoutError):
        return PublishError("bluesky", "timeout", type(exc).__name__, outcome_unknown=True)
    if isinstance(exc, atx.RequestException):
        return PublishError("bluesky", "timeout", _message(exc), outcome_unknown=True)
    raise exc


def _float(value: Any) -> float | None:
    return float(value) if value else None


def _message(exc: Any) -> str:
    content = getattr(getattr(exc, "response", None), "content", None)
    return str(getattr(content, "message", None) or type(exc).__name__)


def _strong(ref: Any) -> models.ComAtprotoRepoStrongRef.Main:
    return models.ComAtprotoRepoStrongRef.Main(uri=ref.uri, cid=ref.cid)


class BlueskyPublisher:
    """Posts as `account` (a handle) through a logged-in atproto client."""

    destination = "bluesky"

    def __init__(self, client: Client, account: str):
        self.client = client
        self.account = account.lstrip("@")

    def publish(self, item: Outbound) -> Published:
        """Post the first text (answering `reply_to`, an at:// URI, if set), then each part."""
        refs: list[Any] = []
        try:
            root = parent = self._existing(item.reply_to) if item.reply_to else None
            for text in item.texts:
                reply = None
                if parent is not None:
                    reply = models.AppBskyFeedPost.ReplyRef(parent=parent, root=root or parent)
                created = self.client.send_post(
                    rich_text(text), profile_identify=self.account, reply_to=reply
                )
                parent = _strong(created)
                root = root or parent
                refs.append(created)
        except Exception as exc:
            error = translate(exc)
            error.published = self._result(refs) if refs else None
            raise error from exc
        return self._result(refs)

    def _existing(self, uri: str) -> models.ComAtprotoRepoStrongRef.Main:
        found = self.client.get_posts([uri]).posts
        if not found:
            raise PublishError("bluesky", "rejected", f"post to answer not found: {uri}")
        return _strong(found[0])

    def find_sent(self, item: Outbound) -> Published | None:
        """Our latest posts, read back: the item if its first text is among them."""
        try:
            feed = self.client.get_author_feed(actor=self.account, limit=RECENT).feed
        except Exception as exc:
            raise translate(exc) from exc
        for entry in feed:
            if same_text(getattr(entry.post.record, "text", ""), item.text):
                return self._result([entry.post])
        return None

    def _result(self, refs: list[Any]) -> Published:
        rkey = refs[0].uri.rsplit("/", 1)[-1]
        url = POST_URL.format(handle=self.account, rkey=rkey)
        return Published(tuple(r.uri for r in refs), url)
