"""Reply senders for X (tweepy), Mastodon (Mastodon.py), Bluesky (atproto) and Reddit (praw)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import tweepy
from atproto import Client as BlueskyClient
from atproto import exceptions as atproto_errors
from atproto import models
from atproto_client.client.session import Session as BlueskySession
from mastodon import Mastodon, MastodonError, MastodonNotFoundError

from flarewatch.actions.replies import (
    MASTODON_VISIBILITIES,
    Replier,
    ReplyError,
    Sent,
    http_status,
    idempotency_key,
    refusal,
)
from flarewatch.actions.x import make_client as make_x_client
from flarewatch.config import ConfigError, require_secret

MASTODON_SECRETS = ("MASTODON_REPLY_TOKEN",)
BLUESKY_SECRETS = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
REDDIT_SECRETS = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USERNAME", "REDDIT_PASSWORD")


class XReplier:
    """Replies with POST /2/tweets (`reply.in_reply_to_tweet_id`), as the account of the tokens."""

    platform = "x"

    def __init__(self, client: tweepy.Client):
        self.client = client

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> XReplier:
        return cls(make_x_client(env))

    def reply(self, parent: str, text: str) -> Sent:
        try:
            found = self.client.create_tweet(text=text, in_reply_to_tweet_id=parent, user_auth=True)
        except tweepy.HTTPException as exc:
            raise refusal("x", http_status(exc), "; ".join(exc.api_messages)) from exc
        except tweepy.TweepyException as exc:
            raise ReplyError(f"x: {exc}") from exc
        tweet_id = str(found["data"]["id"])
        return Sent(tweet_id, f"https://x.com/i/web/status/{tweet_id}")


class MastodonReplier:
    """Finds the complaint on our instance (search, resolve) and replies with `in_reply_to_id`."""

    platform = "mastodon"

    def __init__(self, client: Mastodon, visibility: str = "public"):
        if visibility not in MASTODON_VISIBILITIES:
            raise ConfigError(
                f"mastodon visibility {visibility!r}: expected one of "
                + ", ".join(MASTODON_VISIBILITIES)
            )
        self.client, self.visibility = client, visibility
        self.version_known = False

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance: str | None, visibility: str) -> Any:
        if not instance:
            raise ConfigError("set mastodon_reply_instance (the instance of the replying account)")
        token = require_secret("MASTODON_REPLY_TOKEN", dict(env))
        base = instance if "://" in instance else f"https://{instance}"
        client = Mastodon(
            api_base_url=base,
            access_token=token,
            ratelimit_method="throw",
            version_check_mode="none",
            request_timeout=30,
        )
        return cls(client, visibility)

    def reply(self, parent: str, text: str) -> Sent:
        try:
            if not self.version_known:
                # Without a known version Mastodon.py asks the instance again before every call.
                self.client.retrieve_mastodon_version(fail_hard=True)
                self.version_known = True
            found = self.client.search_v2(parent, resolve=True, result_type="statuses")
            statuses = as_list(found, "statuses")
            if not statuses:
                raise ReplyError(f"mastodon: post {parent} no longer exists (deleted?)")
            status = self.client.status_post(
                text,
                in_reply_to_id=statuses[0]["id"],
                visibility=self.visibility,
                idempotency_key=idempotency_key(parent, text),
            )
        except MastodonNotFoundError as exc:
            raise ReplyError(f"mastodon: post {parent} no longer exists (deleted?)") from exc
        except MastodonError as exc:
            raise refusal("mastodon", _mastodon_status(exc), _mastodon_detail(exc)) from exc
        return Sent(str(status["id"]), status.get("url") or status.get("uri"))


def as_list(found: Any, key: str) -> list[Any]:
    return list(found[key] if isinstance(found, Mapping) else getattr(found, key))


def _mastodon_status(exc: MastodonError) -> int | None:
    # Mastodon.py's API errors carry (message, status code, reason, detail) as their args.
    codes = [a for a in exc.args if isinstance(a, int)]
    return codes[0] if codes else None


def _mastodon_detail(exc: MastodonError) -> str:
    return str(exc.args[-1]) if exc.args else ""


class BlueskyReplier:
    """Replies with a post whose `reply` holds the thread's root and the complaint as parent."""

    platform = "bluesky"

    def __init__(self, client: BlueskyClient, handle: str, did: str):
        self.client, self.handle, self.did = client, handle, did

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BlueskyReplier:
        handle, password = (require_secret(n, dict(env)) for n in BLUESKY_SECRETS)
        client = BlueskyClient()
        try:
            client.login(handle, password, fetch_bsky_profile=False)
        except atproto_errors.AtProtocolError as exc:
            raise ConfigError(
                "bluesky: login rejected; check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD"
            ) from exc
        did = BlueskySession.decode(client.export_session_string()).did
        return cls(client, handle, did)

    def reply(self, parent: str, text: str) -> Sent:
        try:
            posts = self.client.get_posts([parent]).posts
            if not posts:
                raise ReplyError(f"bluesky: post {parent} no longer exists (deleted?)")
            parent_ref = models.create_strong_ref(posts[0])
            thread = getattr(posts[0].record, "reply", None)
            root_ref = thread.root if thread is not None else parent_ref
            ref = models.AppBskyFeedPost.ReplyRef(parent=parent_ref, root=root_ref)
            created = self.client.send_post(text=text, reply_to=ref, profile_identify=self.did)
        except atproto_errors.RequestErrorBase as exc:
            raise refusal("bluesky", _atproto_status(exc), _atproto_detail(exc)) from exc
        rkey = created.uri.rsplit("/", 1)[-1]
        return Sent(created.uri, f"https://bsky.app/profile/{self.handle}/post/{rkey}")


def _atproto_status(exc: atproto_errors.RequestErrorBase) -> int | None:
    return getattr(exc.response, "status_code", None) if exc.response else None


def _atproto_detail(exc: atproto_errors.RequestErrorBase) -> str:
    content = getattr(exc.response, "content", None) if exc.response else None
    return str(getattr(content, "message", "") or "")


class RedditReplier:
    """Public comment replies through praw; only with `reddit_replies = "on"`, never a DM."""

    platform = "reddit"

    def __init__(self, reddit: Any):
        self.reddit = reddit

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RedditReplier:
        import praw

        client_id, secret, user, password = (require_secret(n, dict(env)) for n in REDDIT_SECRETS)
        reddit = praw.Reddit(
            client_id=client_id,
            client_secret=secret,
            username=user,
            password=password,
            user_agent=env.get("REDDIT_USER_AGENT") or "flarewatch-outreach/0.1",
            check_for_updates=False,
            ratelimit_seconds=0,
        )
        return cls(reddit)

    def reply(self, parent: str, text: str) -> Sent:
        import praw
        import prawcore

        kind, _, thing_id = parent.partition("_")
        thing = self.reddit.comment(thing_id) if kind == "t1" else self.reddit.submission(thing_id)
        try:
            comment = thing.reply(text)
        except prawcore.exceptions.ResponseException as exc:
            raise refusal("reddit", http_status(exc), "") from exc
        except praw.exceptions.RedditAPIException as exc:
            raise ReplyError(f"reddit: {exc}") from exc
        if comment is None:
            raise ReplyError(f"reddit: {parent} is locked or deleted; no reply posted")
        return Sent(f"t1_{comment.id}", f"https://www.reddit.com{comment.permalink}")


def make_repliers(
    platforms: set[str],
    *,
    env: Mapping[str, str] | None = None,
    mastodon_instance: str | None = None,
    mastodon_visibility: str = "public",
    reddit_replies: bool = False,
) -> dict[str, Replier | str]:
    """A replier per platform, or the one-line reason it cannot reply (missing credentials)."""
    environ = os.environ if env is None else env
    builders: dict[str, Any] = {
        "x": lambda: XReplier.from_env(environ),
        "mastodon": lambda: MastodonReplier.from_env(
            environ, mastodon_instance, mastodon_visibility
        ),
        "bluesky": lambda: BlueskyReplier.from_env(environ),
        "reddit": lambda: RedditReplier.from_env(environ),
    }
    out: dict[str, Replier | str] = {}
    for platform in sorted(platforms):
        if platform == "reddit" and not reddit_replies:
            out[platform] = 'replies on reddit are off (set reddit_replies = "on" to allow them)'
        elif platform not in builders:
            out[platform] = f"replies on {platform} are not supported"
        else:
            try:
                out[platform] = builders[platform]()
            except ConfigError as exc:
                out[platform] = str(exc)
    return out
