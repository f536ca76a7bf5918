"""Each platform's reply through its own client library, on recorded HTTP."""

from __future__ import annotations

import pytest
import tweepy
from mastodon import Mastodon

from flarewatch.actions.repliers import (
    BlueskyReplier,
    MastodonReplier,
    RedditReplier,
    XReplier,
    make_repliers,
)
from flarewatch.actions.replies import ReplyError, Sent
from tests.actions.reply_recording import recording

X_ENV = {
    "X_API_KEY": "fake-key",
    "X_API_SECRET": "fake-secret",
    "X_ACCESS_TOKEN": "fake-token",
    "X_ACCESS_TOKEN_SECRET": "fake-token-secret",
}


def x_replier() -> XReplier:
    return XReplier.from_env(X_ENV)


def test_x_reply__sends_in_reply_to_tweet_id():
    with recording("x_reply_two"):
        first = x_replier().reply("101", "reply one")
        second = x_replier().reply("102", "reply two")
    assert (first.remote_id, first.url) == ("9001", "https://x.com/i/web/status/9001")
    assert second.remote_id == "9002"


def test_x_reply__wrong_parent_finds_no_recording():
    with pytest.raises(Exception, match="Can't play back"), recording("x_followup"):
        x_replier().reply("9999", "it's fixed")


@pytest.mark.parametrize(
    ("cassette", "message", "stop"),
    [
        ("x_reply_401", "x: credentials rejected (401): Unauthorized", True),
        (
            "x_reply_duplicate",
            "x: forbidden (403): You are not allowed to create a Tweet with duplicate content.",
            False,
        ),
        ("x_reply_429", "x: rate limited (429): try again later: Too Many Requests", True),
    ],
)
def test_x_reply__refusals_are_one_line_errors(cassette, message, stop):
    with recording(cassette), pytest.raises(ReplyError) as refused:
        x_replier().reply("101", "reply one")
    assert str(refused.value) == message
    assert refused.value.stop is stop


def mastodon_replier(visibility: str = "unlisted") -> MastodonReplier:
    client = Mastodon(
        api_base_url="https://mastodon.example",
        access_token="fake-token",
        ratelimit_method="throw",
        version_check_mode="none",
    )
    return MastodonReplier(client, visibility)


def test_mastodon_reply__resolves_the_status_and_keeps_visibility():
    with recording("mastodon_reply"):
        sent = mastodon_replier().reply(
            "https://social.example/users/sam/statuses/113", "@sam@social.example we are on it"
        )
    assert sent.remote_id == "555"
    assert sent.url == "https://mastodon.example/@acme/555"


def test_mastodon_reply__other_visibility_finds_no_recording():
    with pytest.raises(ReplyError, match="Can't play back"), recording("mastodon_reply"):
        mastodon_replier("public").reply("https://social.example/users/sam/statuses/113", "x")


def test_mastodon_reply__deleted_post_is_a_clear_error():
    with recording("mastodon_reply_gone"), pytest.raises(ReplyError, match="no longer exists"):
        mastodon_replier().reply("https://social.example/users/sam/statuses/113", "hello")


def test_mastodon_visibility__unknown_is_refused():
    with pytest.raises(ValueError, match="mastodon visibility 'everyone'"):
        mastodon_replier("everyone")


def test_bluesky_reply__root_and_parent_refs():
    env = {"BLUESKY_HANDLE": "flarewatch-test.bsky.social", "BLUESKY_APP_PASSWORD": "fake"}
    with recording("bluesky_reply"):
        replier = BlueskyReplier.from_env(env)
        sent = replier.reply("at://did:plc:sam/app.bsky.feed.post/3lb3", "we are on it")
    assert sent.remote_id == "at://did:plc:flarewatchtest/app.bsky.feed.post/3ours"
    assert sent.url == "https://bsky.app/profile/flarewatch-test.bsky.social/post/3ours"


def test_make_repliers__missing_credentials_and_reddit_off_say_why():
    found = make_repliers({"x", "reddit", "mastodon", "hackernews"}, env={})
    assert "X_API_KEY" in found["x"]
    assert found["reddit"].startswith("replies on reddit are off")
    assert "mastodon_reply_instance" in found["mastodon"]
    assert found["hackernews"] == "replies on hackernews are not supported"
    assert isinstance(make_repliers({"x"}, env=X_ENV)["x"], XReplier)
    assert isinstance(XReplier.from_env(X_ENV).client, tweepy.Client)


def test_reddit_reply__a_public_comment_reply_only_when_enabled():
    env = {
        "REDDIT_CLIENT_ID": "id",
        "REDDIT_CLIENT_SECRET": "secret",
        "REDDIT_USERNAME": "acme_support",
        "REDDIT_PASSWORD": "fake",
    }
    assert make_repliers({"reddit"}, env=env)["reddit"].startswith("replies on reddit are off")
    replier = make_repliers({"reddit"}, env=env, reddit_replies=True)["reddit"]
    assert isinstance(replier, RedditReplier)
    with recording("reddit_reply"):
        sent = replier.reply("t1_xyz", "Sorry about this")
    assert sent == Sent("t1_k9", "https://www.reddit.com/r/acme/comments/abc/_/k9/")
