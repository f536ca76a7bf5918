"""Publish to Mastodon with Mastodon.py's `status_post`, sending its Idempotency-Key header."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mastodon.errors as mx
from mastodon import Mastodon

from flarewatch.actions.base import Outbound, Published, PublishError, same_text
from flarewatch.collectors.mastodon import html_to_text
from flarewatch.collectors.watch import mastodon_token_var
from flarewatch.config import ConfigError, require_secret

RECENT = 20


def split_acct(acct: str) -> tuple[str, str]:
    """`user@instance` (or `@user@instance`) as (user, instance)."""
    user, sep, instance = acct.lstrip("@").partition("@")
    if not (user and sep and instance):
        raise ConfigError(f"mastodon account {acct!r}: expected user@instance")
    return user, instance


def make_client(acct: str, env: Mapping[str, str]) -> Mastodon:
    """A client for the instance of `acct`, with its token; raises on rate limits."""
    _, instance = split_acct(acct)
    return Mastodon(
        api_base_url=f"https://{instance}",
        access_token=require_secret(mastodon_token_var(instance), dict(env)),
        ratelimit_method="throw",
        version_check_mode="none",
        request_timeout=30,
    )


def translate(exc: Exception, client: Any = None) -> PublishError:
    """One PublishError for whatever the instance or the network answered."""
    if isinstance(exc, mx.MastodonUnauthorizedError):
        return PublishError("mastodon", "unauthorized", "token rejected; check MASTODON_TOKEN_*")
    if isinstance(exc, mx.MastodonRatelimitError):
        reset = getattr(client, "ratelimit_reset", None)
        return PublishError("mastodon", "rate_limited", "429", retry_after=reset)
    if isinstance(exc, mx.MastodonNetworkError | mx.MastodonServerError):
        return PublishError("mastodon", "timeout", type(exc).__name__, outcome_unknown=True)
    if isinstance(exc, mx.MastodonAPIError):
        status = exc.args[1] if len(exc.args) > 1 else None
        detail = str(exc.args[-1]) if exc.args else str(exc)
        reason = "forbidden" if status == 403 else "rejected"
        return PublishError("mastodon", reason, detail)
    raise exc


class MastodonPublisher:
    """Posts as `account` (user@instance); threads are replies to the post before."""

    destination = "mastodon"

    def __init__(self, client: Mastodon, account: str, *, visibility: str = "public"):
        self.client = client
        self.account = account.lstrip("@")
        self.visibility = visibility

    def publish(self, item: Outbound) -> Published:
        """Post each text; the instance drops a repeat of the same Idempotency-Key for an hour."""
        ids: list[str] = []
        urls: list[str] = []
        parent = item.reply_to
        for index, text in enumerate(item.texts):
            try:
                status = self.client.status_post(
                    text,
                    in_reply_to_id=parent,
                    visibility=self.visibility,
                    idempotency_key=f"{item.idempotency_key}-{index}",
                )
            except Exception as exc:
                error = translate(exc, self.client)
                error.published = Published(tuple(ids), urls[0]) if ids else None
                raise error from exc
            parent = str(status["id"])
            ids.append(parent)
            urls.append(status.get("url") or status.get("uri") or "")
        return Published(tuple(ids), urls[0] or None)

    def find_sent(self, item: Outbound) -> Published | None:
        """Our latest statuses, read back: the item if its first text is among them."""
        try:
            me = self.client.account_verify_credentials()
            recent = self.client.account_statuses(me["id"], limit=RECENT)
        except Exception as exc:
            raise translate(exc, self.client) from exc
        for status in recent:
            if same_text(html_to_text(status["content"]), item.text):
                return Published((str(status["id"]),), status.get("url"))
        return None
