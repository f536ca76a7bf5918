"""Publish to X with tweepy's `Client.create_tweet` (OAuth 1.0a user context), threads as replies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter

from flarewatch.actions.base import Outbound, Published, PublishError, same_text
from flarewatch.config import require_secret

TWEET_URL = "https://x.com/{user}/status/{id}"
# Posting needs the user's own tokens (an app's bearer token can only read).
CREDENTIALS = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
REQUEST_TIMEOUT = 30.0
RECENT = 10  # own tweets read back when checking whether a timed-out post went out


def make_client(env: Mapping[str, str]) -> tweepy.Client:
    """A user-context tweepy client from X_API_KEY/SECRET and X_ACCESS_TOKEN/_SECRET."""
    key, secret, token, token_secret = (require_secret(n, dict(env)) for n in CREDENTIALS)
    client = tweepy.Client(
        consumer_key=key,
        consumer_secret=secret,
        access_token=token,
        access_token_secret=token_secret,
        return_type=dict,
        wait_on_rate_limit=False,
    )
    client.session.mount("https://", _TimeoutAdapter())
    return client


class _TimeoutAdapter(HTTPAdapter):
    """tweepy passes no timeout to requests; a stalled post must end as "outcome unknown"."""

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["timeout"] = kwargs.get("timeout") or REQUEST_TIMEOUT
        return super().send(request, **kwargs)


def _reset(response: Any) -> float | None:
    value = response.headers.get("x-rate-limit-reset") if response is not None else None
    return float(value) if value else None


def translate(exc: Exception) -> PublishError:
    """One PublishError for whatever X or the network answered."""
    if isinstance(exc, tweepy.Unauthorized):
        return PublishError(
            "x", "unauthorized", "check X_API_KEY/SECRET and X_ACCESS_TOKEN/_SECRET"
        )
    if isinstance(exc, tweepy.TooManyRequests):
        return PublishError("x", "rate_limited", "429", retry_after=_reset(exc.response))
    if isinstance(exc, tweepy.Forbidden):
        detail = "; ".join(exc.api_messages) or "403"
        reason = "duplicate" if "duplicate" in detail.lower() else "forbidden"
        return PublishError("x", reason, detail)
    if isinstance(exc, tweepy.HTTPException):
        detail = "; ".join(exc.api_messages) or str(exc.response.status_code)
        return PublishError("x", "rejected", detail)
    if isinstance(exc, requests.RequestException):
        return PublishError("x", "timeout", type(exc).__name__, outcome_unknown=True)
    raise exc


class XPublisher:
    """Posts as the account whose tokens the client holds; `account` is its @username."""

    destination = "x"

    def __init__(self, client: tweepy.Client, account: str):
        self.client = client
        self.account = account.lstrip("@")

    def publish(self, item: Outbound) -> Published:
        """Post the first text, then each part as a reply to the one before."""
        ids: list[str] = []
        parent = item.reply_to
        for text in item.texts:
            try:
                answer = self.client.create_tweet(text=text, in_reply_to_tweet_id=parent)
            except Exception as exc:
                error = translate(exc)
                error.published = self._result(ids) if ids else None
                raise error from exc
            parent = str(answer["data"]["id"])
            ids.append(parent)
        return self._result(ids)

    def find_sent(self, item: Outbound) -> Published | None:
        """Our latest tweets, read back: the item if its first text is among them."""
        try:
            me = self.client.get_me(user_auth=True)["data"]["id"]
            recent = self.client.get_users_tweets(me, max_results=RECENT, user_auth=True)
        except Exception as exc:
            raise translate(exc) from exc
        for tweet in recent.get("data") or []:
            if same_text(tweet["text"], item.text):
                return self._result([str(tweet["id"])])
        return None

    def _result(self, ids: list[str]) -> Published:
        return Published(tuple(ids), TWEET_URL.format(user=self.account, id=ids[0]))
