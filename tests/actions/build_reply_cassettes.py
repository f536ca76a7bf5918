"""Write the outbound-action cassettes from responses in each API's documented shape.

No live accounts were available, so each response is written out by hand from the platform's
API reference (X API v2 POST /2/tweets, Mastodon statuses and search, AT Protocol
createRecord/getPosts, Zendesk Support tickets) and passed through the collectors' scrubbers.
Request bodies hold only the fields a test insists on (matched as a subset of what is sent).

Run: .venv/bin/python -m tests.actions.build_reply_cassettes
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.actions.reply_recording import CASSETTES
from tests.collectors.build_cassettes import _NoAliases, interaction
from tests.collectors.recording import PLACEHOLDER_JWT

X_TWEETS = "https://api.twitter.com/2/tweets"
MASTO = "https://mastodon.example"
BSKY = "https://bsky.social/xrpc/"
ZENDESK = "https://acme.zendesk.com/api/v2/"


def write(name: str, interactions: list[dict[str, Any]]) -> None:
    CASSETTES.mkdir(exist_ok=True)
    (CASSETTES / f"{name}.yaml").write_text(
        yaml.dump(
            {"interactions": interactions, "version": 1},
            Dumper=_NoAliases,
            sort_keys=False,
            width=100,
            allow_unicode=True,
        ),
        encoding="utf-8",
    )


def x_reply(parent: str, tweet_id: str, text: str) -> dict[str, Any]:
    body = {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}}
    sent = json.dumps({"reply": {"in_reply_to_tweet_id": parent}})
    return interaction("POST", X_TWEETS, body, status=201, request_body=sent)


def x_problem(parent: str, status: int, title: str, detail: str, **headers: str) -> dict[str, Any]:
    body = {"title": title, "detail": detail, "type": "about:blank", "status": status}
    sent = json.dumps({"reply": {"in_reply_to_tweet_id": parent}})
    extra = {k.replace("_", "-"): [v] for k, v in headers.items()}
    return interaction("POST", X_TWEETS, body, status=status, request_body=sent, headers=extra)


def x_cassettes() -> None:
    write("x_reply_two", [x_reply("101", "9001", "reply one"), x_reply("102", "9002", "reply two")])
    write("x_followup", [x_reply("9001", "9101", "it's fixed")])
    write("x_reply_401", [x_problem("101", 401, "Unauthorized", "Unauthorized")])
    forbidden = "You are not allowed to create a Tweet with duplicate content."
    write("x_reply_duplicate", [x_problem("101", 403, "Forbidden", forbidden)])
    gone = "You attempted to reply to a Tweet that is deleted or not visible to you."
    write(
        "x_reply_deleted_then_sent",
        [x_problem("101", 403, "Forbidden", gone), x_reply("102", "9002", "reply two")],
    )
    write(
        "x_reply_429",
        [
            x_problem(
                "101",
                429,
                "Too Many Requests",
                "Too Many Requests",
                x_rate_limit_limit="100",
                x_rate_limit_remaining="0",
                x_rate_limit_reset="1772453700",
            )
        ],
    )


def mastodon_instance() -> list[dict[str, Any]]:
    v1 = {"uri": "mastodon.example", "title": "Mastodon", "version": "4.3.2"}
    v2 = {
        "domain": "mastodon.example",
        "title": "Mastodon",
        "version": "4.3.2",
        "api_versions": {"mastodon": 2},
    }
    return [
        interaction("GET", MASTO + "/api/v1/instance/", v1),
        interaction("GET", MASTO + "/api/v2/instance/", v2),
    ]


COMPLAINT_URI = "https://social.example/users/sam/statuses/113"
SEARCH = (
    MASTO + "/api/v2/search?q=https%3A%2F%2Fsocial.example%2Fusers%2Fsam%2Fstatuses%2F113"
    "&resolve=1&exclude_unreviewed=1&type=statuses"
)


def masto_status(sid: str, uri: str, text: str, reply_to: str | None) -> dict[str, Any]:
    return {
        "id": sid,
        "created_at": "2026-03-02T12:30:00.000Z",
        "in_reply_to_id": reply_to,
        "in_reply_to_account_id": "7" if reply_to else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "unlisted",
        "language": "en",
        "uri": uri,
        "url": uri.replace("/users/", "/@").replace("/statuses/", "/"),
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "content": f"<p>{text}</p>",
        "reblog": None,
        "account": {"id": "7", "username": "acme", "acct": "acme", "url": MASTO + "/@acme"},
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def mastodon_cassettes() -> None:
    found = masto_status("110", COMPLAINT_URI, "acme is down", None)
    ours = masto_status("555", MASTO + "/users/acme/statuses/555", "we are on it", "110")
    sent = "in_reply_to_id=110&visibility=unlisted"
    write(
        "mastodon_reply",
        [
            *mastodon_instance(),
            interaction("GET", SEARCH, {"accounts": [], "statuses": [found], "hashtags": []}),
            interaction("POST", MASTO + "/api/v1/statuses", ours, request_body=sent),
        ],
    )
    write(
        "mastodon_reply_gone",
        [
            *mastodon_instance(),
            interaction("GET", SEARCH, {"accounts": [], "statuses": [], "hashtags": []}),
        ],
    )


ROOT = "at://did:plc:root/app.bsky.feed.post/3root"
PARENT = "at://did:plc:sam/app.bsky.feed.post/3lb3"


def bluesky_cassettes() -> None:
    session = {
        "did": "did:plc:flarewatchtest",
        "handle": "flarewatch-test.bsky.social",
        "accessJwt": PLACEHOLDER_JWT,
        "refreshJwt": PLACEHOLDER_JWT,
        "active": True,
    }
    parent_view = {
        "uri": PARENT,
        "cid": "bafyparentcid",
        "author": {"did": "did:plc:sam", "handle": "sam.bsky.social"},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "acme is down again",
            "createdAt": "2026-03-02T12:20:00.000Z",
            "reply": {
                "root": {"uri": ROOT, "cid": "bafyrootcid"},
                "parent": {"uri": ROOT, "cid": "bafyrootcid"},
            },
        },
        "indexedAt": "2026-03-02T12:20:01.000Z",
        "likeCount": 0,
        "replyCount": 0,
        "repostCount": 0,
    }
    reply = {
        "root": {"uri": ROOT, "cid": "bafyrootcid"},
        "parent": {"uri": PARENT, "cid": "bafyparentcid"},
    }
    create = {
        "repo": "did:plc:flarewatchtest",
        "collection": "app.bsky.feed.post",
        "record": {"reply": reply},
    }
    created = {
        "uri": "at://did:plc:flarewatchtest/app.bsky.feed.post/3ours",
        "cid": "bafyourcid",
        "commit": {"cid": "bafycommit", "rev": "3rev"},
        "validationStatus": "valid",
    }
    get_posts = (
        BSKY + "app.bsky.feed.getPosts?uris=" + PARENT.replace(":", "%3A").replace("/", "%2F")
    )
    write(
        "bluesky_reply",
        [
            interaction("POST", BSKY + "com.atproto.server.createSession", session),
            interaction("GET", get_posts, {"posts": [parent_view]}),
            interaction(
                "POST",
                BSKY + "com.atproto.repo.createRecord",
                created,
                request_body=json.dumps(create),
            ),
        ],
    )


def zendesk_ticket(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": 35436,
        "url": ZENDESK + "tickets/35436.json",
        "external_id": "flarewatch-1-author:1",
        "type": "incident",
        "subject": "[SEV2] Login outage: @ann on x",
        "description": "Incident 1 (SEV2): Login outage",
        "priority": "high",
        "status": status,
        "requester_id": 20978392,
        "submitter_id": 20978392,
        "assignee_id": None,
        "organization_id": None,
        "group_id": None,
        "collaborator_ids": [],
        "follower_ids": [],
        "problem_id": None,
        "has_incidents": False,
        "is_public": False,
        "due_at": None,
        "tags": ["flarewatch", "flarewatch_incident_1"],
        "custom_fields": [],
        "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": "2026-03-02T13:00:00Z",
        "updated_at": "2026-03-02T13:00:00Z",
        **extra,
    }


def zendesk_audit(ticket: dict[str, Any]) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "audit": {
            "id": 2127301143,
            "ticket_id": ticket["id"],
            "created_at": ticket["updated_at"],
            "author_id": 20978392,
            "metadata": {"system": {}, "custom": {}},
            "events": [{"id": 2127301163, "type": "Comment", "public": False, "body": "..."}],
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        },
    }


def zendesk_cassettes() -> None:
    create = {
        "ticket": {
            "type": "incident",
            "priority": "high",
            "tags": ["flarewatch", "flarewatch_incident_1"],
            "comment": {"public": False},
        }
    }
    update = {"ticket": {"id": 35436, "comment": {"public": False}}}
    write(
        "zendesk_tickets",
        [
            interaction(
                "POST",
                ZENDESK + "tickets.json",
                zendesk_audit(zendesk_ticket("new")),
                status=201,
                request_body=json.dumps(create),
            ),
            interaction(
                "GET", ZENDESK + "tickets/35436.json", {"ticket": zendesk_ticket("solved")}
            ),
            interaction(
                "PUT",
                ZENDESK + "tickets/35436.json",
                zendesk_audit(zendesk_ticket("solved", updated_at="2026-03-02T15:00:00Z")),
                request_body=json.dumps(update),
            ),
        ],
    )
    # The monitor loop's poll: one show of the open ticket, then nothing (solved is not asked again).
    write(
        "zendesk_ticket_poll",
        [interaction("GET", ZENDESK + "tickets/35436.json", {"ticket": zendesk_ticket("solved")})],
    )
    write(
        "zendesk_poll_401",
        [
            interaction(
                "GET",
                ZENDESK + "tickets/35436.json",
                {"error": "Couldn't authenticate you"},
                status=401,
            )
        ],
    )
    write(
        "zendesk_401",
        [
            interaction(
                "POST", ZENDESK + "tickets.json", {"error": "Couldn't authenticate you"}, status=401
            )
        ],
    )


REDDIT_TOKEN = "https://www.reddit.com/api/v1/access_token"
REDDIT_COMMENT = "https://oauth.reddit.com/api/comment/?raw_json=1"


def reddit_cassettes() -> None:
    token = {
        "access_token": "<ACCESS_TOKEN>",
        "token_type": "bearer",
        "expires_in": 86400,
        "scope": "*",
    }
    comment = {
        "id": "k9",
        "name": "t1_k9",
        "permalink": "/r/acme/comments/abc/_/k9/",
        "body": "Sorry about this",
        "author": "acme_support",
        "link_id": "t3_abc",
        "parent_id": "t1_xyz",
        "subreddit": "acme",
        "created_utc": 1772452800,
    }
    created = {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": comment}]}}}
    write(
        "reddit_reply",
        [
            interaction("POST", REDDIT_TOKEN, token, request_body="grant_type=password"),
            interaction(
                "POST", REDDIT_COMMENT, created, request_body="api_type=json&thing_id=t1_xyz"
            ),
        ],
    )


def main() -> None:
    x_cassettes()
    mastodon_cassettes()
    bluesky_cassettes()
    zendesk_cassettes()
    reddit_cassettes()


if __name__ == "__main__":
    main()
