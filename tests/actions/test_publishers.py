"""Publishers against recorded API answers: threads as reply chains, errors named, retries checked."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from flarewatch.actions import Outbound, PublishError, bluesky, deliver, mastodon, statuspage, x
from tests.actions.recording import FAKE_ENV, recording

THREAD = Outbound("x", "part one (1/2)", "key-1", parts=("part two (2/2)",))
SENT_TEXT = "We are investigating login errors."


def _json(request) -> dict:
    return json.loads(request.body)


def _form(request) -> dict:
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    return {k: v[0] for k, v in parse_qs(body).items()}


def x_publisher() -> x.XPublisher:
    return x.XPublisher(x.make_client(FAKE_ENV), "acmecloud")


def test_x_publish__thread_is_a_reply_chain():
    with recording("x_thread") as cassette:
        published = x_publisher().publish(THREAD)
    assert published.remote_ids == ("1001", "1002")
    assert published.url == "https://x.com/acmecloud/status/1001"
    first, second = (_json(r) for r in cassette.sent)
    assert first == {"text": "part one (1/2)"}
    assert second == {"text": "part two (2/2)", "reply": {"in_reply_to_tweet_id": "1001"}}
    assert cassette.sent[0].headers["Authorization"].startswith("OAuth ")


@pytest.mark.parametrize(
    ("cassette", "reason", "retry_after"),
    [
        ("x_unauthorized", "unauthorized", None),
        ("x_duplicate", "duplicate", None),
        ("x_rate_limited", "rate_limited", 1772453700.0),
    ],
)
def test_x_publish__errors_are_named(cassette, reason, retry_after):
    with recording(cassette), pytest.raises(PublishError) as caught:
        x_publisher().publish(Outbound("x", "hello", "key-2"))
    assert caught.value.reason == reason
    assert caught.value.retry_after == retry_after
    assert not caught.value.outcome_unknown


def test_x_deliver__retry_finds_the_earlier_post_and_does_not_post_again():
    item = Outbound("x", SENT_TEXT, "key-3")
    with recording("x_find_sent") as cassette:
        published = deliver(x_publisher(), item, retry=True)
    assert published.remote_ids == ("1003",)
    assert [r.method for r in cassette.sent] == ["GET", "GET"]


def mastodon_publisher() -> mastodon.MastodonPublisher:
    client = mastodon.make_client("acme@mastodon.social", FAKE_ENV)
    return mastodon.MastodonPublisher(client, "acme@mastodon.social")


def test_mastodon_publish__thread_with_idempotency_keys():
    item = Outbound("mastodon", "part one (1/2)", "key-4", parts=("part two (2/2)",))
    with recording("mastodon_thread") as cassette:
        published = mastodon_publisher().publish(item)
    assert published.remote_ids == ("200", "201")
    assert published.url == "https://mastodon.social/@acme/200"
    first, second = cassette.sent
    assert first.headers["Idempotency-Key"] == "key-4-0"
    assert second.headers["Idempotency-Key"] == "key-4-1"
    assert _form(second)["in_reply_to_id"] == "200"
    assert _form(first)["visibility"] == "public"


@pytest.mark.parametrize(
    ("cassette", "reason"),
    [
        ("mastodon_unauthorized", "unauthorized"),
        ("mastodon_forbidden", "forbidden"),
        ("mastodon_rate_limited", "rate_limited"),
        ("mastodon_too_long", "rejected"),
    ],
)
def test_mastodon_publish__errors_are_named(cassette, reason):
    with recording(cassette), pytest.raises(PublishError) as caught:
        mastodon_publisher().publish(Outbound("mastodon", "hello", "key-5"))
    assert caught.value.reason == reason
    if reason == "rate_limited":
        assert caught.value.retry_after is not None
    if reason == "rejected":
        assert "character limit" in str(caught.value)


def test_mastodon_deliver__retry_finds_the_earlier_status():
    with recording("mastodon_find_sent"):
        published = deliver(mastodon_publisher(), Outbound("mastodon", SENT_TEXT, "k"), retry=True)
    assert published.remote_ids == ("205",)


def bluesky_publisher() -> bluesky.BlueskyPublisher:
    client = bluesky.make_client("acme.bsky.social", FAKE_ENV)
    return bluesky.BlueskyPublisher(client, "acme.bsky.social")


def test_bluesky_send_post__thread_replies_and_link_facets():
    item = Outbound(
        "bluesky", "part one https://status.acme.example/x (1/2)", "k6", parts=("part two (2/2)",)
    )
    with recording("bluesky_thread") as cassette:
        published = bluesky_publisher().publish(item)
    assert published.remote_ids == (
        "at://did:plc:acmecloudtest/app.bsky.feed.post/3la1",
        "at://did:plc:acmecloudtest/app.bsky.feed.post/3la2",
    )
    assert published.url == "https://bsky.app/profile/acme.bsky.social/post/3la1"
    first, second = (_json(r)["record"] for r in cassette.sent[1:])
    assert first["facets"][0]["features"][0]["uri"] == "https://status.acme.example/x"
    assert "reply" not in first
    assert second["reply"]["parent"]["uri"].endswith("/3la1")
    assert second["reply"]["root"]["cid"] == "bafyreih3la1"


def test_bluesky_login__rejected_password_is_unauthorized():
    with recording("bluesky_unauthorized"), pytest.raises(PublishError) as caught:
        bluesky_publisher()
    assert caught.value.reason == "unauthorized"
    assert "BLUESKY_PUBLISH_APP_PASSWORD" in str(caught.value)


def test_bluesky_send_post__rate_limited_with_reset():
    with recording("bluesky_rate_limited"), pytest.raises(PublishError) as caught:
        bluesky_publisher().publish(Outbound("bluesky", "hello", "k7"))
    assert caught.value.reason == "rate_limited"
    assert caught.value.retry_after == 1772453100.0


def test_bluesky_deliver__retry_finds_the_earlier_post():
    with recording("bluesky_find_sent"):
        published = deliver(bluesky_publisher(), Outbound("bluesky", SENT_TEXT, "k"), retry=True)
    assert published.remote_id == "at://did:plc:acmecloudtest/app.bsky.feed.post/3la9"


def statuspage_publisher() -> statuspage.StatuspagePublisher:
    return statuspage.StatuspagePublisher(statuspage.make_client(FAKE_ENV), "kctbh9vrtdwd")


def test_statuspage__create_then_update_the_incident():
    publisher = statuspage_publisher()
    with recording("statuspage_create_update") as cassette:
        created = publisher.publish(
            Outbound("statuspage", "We are investigating.", "k8", options={"name": "Login errors"})
        )
        updated = publisher.publish(
            Outbound(
                "statuspage",
                "The cause is found.",
                "k9",
                reply_to=created.remote_id,
                options={"status": "identified"},
            )
        )
    assert created.remote_id == updated.remote_id == "p31zjtct2jer"
    assert created.url == "http://stspg.io/p31zjtct2jer"
    create, update = (_json(r)["incident"] for r in cassette.sent)
    assert create == {
        "status": "investigating",
        "body": "We are investigating.",
        "name": "Login errors",
        "deliver_notifications": True,
    }
    assert update == {"status": "identified", "body": "The cause is found."}
    assert cassette.sent[1].method == "PATCH"


@pytest.mark.parametrize(
    ("cassette", "reason", "retry_after"),
    [
        ("statuspage_unauthorized", "unauthorized", None),
        ("statuspage_rate_limited", "rate_limited", 60.0),
    ],
)
def test_statuspage__errors_are_named(cassette, reason, retry_after):
    with recording(cassette), pytest.raises(PublishError) as caught:
        statuspage_publisher().publish(Outbound("statuspage", "hello", "k10"))
    assert caught.value.reason == reason
    assert caught.value.retry_after == retry_after


def test_statuspage_deliver__retry_finds_the_update_on_the_incident():
    item = Outbound("statuspage", "The cause is found.", "k11", reply_to="p31zjtct2jer")
    with recording("statuspage_find_sent"):
        published = deliver(statuspage_publisher(), item, retry=True)
    assert published.remote_id == "p31zjtct2jer"


def test_statuspage__unknown_status_is_refused_before_any_request():
    with pytest.raises(PublishError, match="status 'fixed'"):
        statuspage_publisher().publish(
            Outbound("statuspage", "x", "k", options={"status": "fixed"})
        )
