"""Write the publisher cassettes from responses in each API's documented shape.

No live credentials were available when these were made, so each response is written out by
hand from the platform's API reference (X API v2 `POST /2/tweets`, Mastodon `POST
/api/v1/statuses`, AT Protocol `com.atproto.repo.createRecord`, Statuspage `POST/PATCH
/v1/pages/{page_id}/incidents`) and passed through the same scrubbers as a live recording.
To replace one with a real recording: delete it and run its test with FLAREWATCH_RECORD=1.

Run: .venv/bin/python -m tests.actions.build_cassettes
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.actions.recording import CASSETTES
from tests.collectors.build_cassettes import _NoAliases, interaction, url
from tests.collectors.recording import PLACEHOLDER_JWT

T = 1772452800  # 2026-03-02T12:00:00Z


def write(name: str, interactions: list[dict[str, Any]]) -> None:
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


# --- X: POST /2/tweets (user context), GET /2/users/me, GET /2/users/:id/tweets ---------------

TWEETS = "https://api.twitter.com/2/tweets"
X_ME = "2244994945"


def created_tweet(tweet_id: str, text: str) -> dict[str, Any]:
    return {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}}


def x_problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": "about:blank", "status": status}


def x_cassettes() -> None:
    write(
        "x_thread",
        [
            interaction("POST", TWEETS, created_tweet("1001", "part one (1/2)"), status=201),
            interaction("POST", TWEETS, created_tweet("1002", "part two (2/2)"), status=201),
        ],
    )
    write(
        "x_unauthorized",
        [interaction("POST", TWEETS, x_problem(401, "Unauthorized", "Unauthorized"), status=401)],
    )
    duplicate = "You are not allowed to create a Tweet with duplicate content."
    write(
        "x_duplicate",
        [interaction("POST", TWEETS, x_problem(403, "Forbidden", duplicate), status=403)],
    )
    limits = {
        "x-rate-limit-limit": ["200"],
        "x-rate-limit-remaining": ["0"],
        "x-rate-limit-reset": [str(T + 900)],
    }
    write(
        "x_rate_limited",
        [
            interaction(
                "POST",
                TWEETS,
                x_problem(429, "Too Many Requests", "Too Many Requests"),
                status=429,
                headers=limits,
            )
        ],
    )
    write(
        "x_find_sent",
        [
            interaction(
                "GET",
                "https://api.twitter.com/2/users/me",
                {"data": {"id": X_ME, "name": "Acme Cloud", "username": "acmecloud"}},
            ),
            interaction(
                "GET",
                url(f"https://api.twitter.com/2/users/{X_ME}/tweets", max_results=10),
                {
                    "data": [
                        {
                            "id": "1003",
                            "text": "We are investigating login errors.",
                            "edit_history_tweet_ids": ["1003"],
                        },
                        {"id": "999", "text": "Older news", "edit_history_tweet_ids": ["999"]},
                    ],
                    "meta": {"result_count": 2, "newest_id": "1003", "oldest_id": "999"},
                },
            ),
        ],
    )


# --- Mastodon: POST /api/v1/statuses, verify_credentials, account statuses ---------------------

MASTODON = "https://mastodon.social/api/v1/"


def account() -> dict[str, Any]:
    return {
        "id": "109302",
        "username": "acme",
        "acct": "acme",
        "display_name": "Acme Cloud",
        "url": "https://mastodon.social/@acme",
        "followers_count": 1200,
        "bot": False,
        "created_at": "2022-11-07T00:00:00.000Z",
    }


def status(sid: str, text: str, reply_to: str | None = None) -> dict[str, Any]:
    return {
        "id": sid,
        "created_at": "2026-03-02T12:00:00.000Z",
        "in_reply_to_id": reply_to,
        "in_reply_to_account_id": "109302" if reply_to else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"https://mastodon.social/users/acme/statuses/{sid}",
        "url": f"https://mastodon.social/@acme/{sid}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "content": f"<p>{text}</p>",
        "reblog": None,
        "account": account(),
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
    }


def mastodon_cassettes() -> None:
    statuses = MASTODON + "statuses"
    write(
        "mastodon_thread",
        [
            interaction("POST", statuses, status("200", "part one (1/2)")),
            interaction("POST", statuses, status("201", "part two (2/2)", "200")),
        ],
    )
    errors = {
        "mastodon_unauthorized": (401, "The access token is invalid", {}),
        "mastodon_forbidden": (403, "This action is not allowed", {}),
        "mastodon_rate_limited": (
            429,
            "Too many requests",
            {
                "X-RateLimit-Limit": ["300"],
                "X-RateLimit-Remaining": ["0"],
                "X-RateLimit-Reset": ["2026-03-02T12:05:00.000Z"],
                # Mastodon.py moves the reset onto the local clock by the server's Date.
                "Date": ["Mon, 02 Mar 2026 12:00:00 GMT"],
            },
        ),
        "mastodon_too_long": (422, "Validation failed: Text character limit of 500 exceeded", {}),
    }
    for name, (code, message, headers) in errors.items():
        write(
            name,
            [interaction("POST", statuses, {"error": message}, status=code, headers=headers)],
        )
    write(
        "mastodon_find_sent",
        [
            interaction("GET", MASTODON + "accounts/verify_credentials", account()),
            interaction(
                "GET",
                url(MASTODON + "accounts/109302/statuses", limit=20),
                [status("205", "We are investigating login errors."), status("190", "Old")],
            ),
        ],
    )
    write(
        "mastodon_own_statuses",
        [
            interaction("GET", url(MASTODON + "accounts/lookup", acct="acme"), account()),
            interaction(
                "GET",
                url(MASTODON + "accounts/109302/statuses", exclude_reblogs=1, limit=40),
                [status("205", "We are investigating login errors.")],
            ),
        ],
    )


# --- Bluesky: createSession, createRecord (app.bsky.feed.post), getAuthorFeed -------------------

BSKY = "https://bsky.social/xrpc/"
DID = "did:plc:acmecloudtest"
HANDLE = "acme.bsky.social"


def session() -> dict[str, Any]:
    return {
        "did": DID,
        "handle": HANDLE,
        "accessJwt": PLACEHOLDER_JWT,
        "refreshJwt": PLACEHOLDER_JWT,
        "active": True,
    }


def login() -> dict[str, Any]:
    body = json.dumps({"identifier": HANDLE, "password": "<PASSWORD>"})
    return interaction(
        "POST", BSKY + "com.atproto.server.createSession", session(), request_body=body
    )


def record(rkey: str) -> dict[str, Any]:
    return {
        "uri": f"at://{DID}/app.bsky.feed.post/{rkey}",
        "cid": f"bafyreih{rkey}",
        "commit": {"cid": f"bafyreic{rkey}", "rev": f"rev{rkey}"},
        "validationStatus": "valid",
    }


def bluesky_cassettes() -> None:
    create = BSKY + "com.atproto.repo.createRecord"
    write(
        "bluesky_thread",
        [
            login(),
            interaction("POST", create, record("3la1")),
            interaction("POST", create, record("3la2")),
        ],
    )
    write(
        "bluesky_unauthorized",
        [
            interaction(
                "POST",
                BSKY + "com.atproto.server.createSession",
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                status=401,
            )
        ],
    )
    write(
        "bluesky_rate_limited",
        [
            login(),
            interaction(
                "POST",
                create,
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                status=429,
                headers={"ratelimit-reset": [str(T + 300)], "ratelimit-remaining": ["0"]},
            ),
        ],
    )
    view = {
        "uri": f"at://{DID}/app.bsky.feed.post/3la9",
        "cid": "bafyreih3la9",
        "author": {"did": DID, "handle": HANDLE},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "We are investigating login errors.",
            "createdAt": "2026-03-02T12:00:00.000Z",
        },
        "indexedAt": "2026-03-02T12:00:01.000Z",
    }
    write(
        "bluesky_find_sent",
        [
            login(),
            interaction(
                "GET",
                url(
                    BSKY + "app.bsky.feed.getAuthorFeed",
                    actor=HANDLE,
                    includePins="false",
                    limit=20,
                ),
                {"feed": [{"post": view}]},
            ),
        ],
    )


# --- Statuspage: POST/PATCH/GET /v1/pages/{page_id}/incidents -----------------------------------

PAGE = "kctbh9vrtdwd"
STATUSPAGE = f"https://api.statuspage.io/v1/pages/{PAGE}/incidents"


def sp_incident(status_: str, bodies: list[str]) -> dict[str, Any]:
    return {
        "id": "p31zjtct2jer",
        "name": "Login errors",
        "status": status_,
        "impact": "major",
        "shortlink": "http://stspg.io/p31zjtct2jer",
        "page_id": PAGE,
        "created_at": "2026-03-02T12:00:00.000Z",
        "incident_updates": [
            {
                "id": f"u{i}",
                "incident_id": "p31zjtct2jer",
                "status": status_,
                "body": body,
                "created_at": "2026-03-02T12:00:00.000Z",
            }
            for i, body in enumerate(bodies)
        ],
    }


def statuspage_cassettes() -> None:
    one = f"{STATUSPAGE}/p31zjtct2jer"
    write(
        "statuspage_create_update",
        [
            interaction(
                "POST",
                STATUSPAGE,
                sp_incident("investigating", ["We are investigating."]),
                status=201,
            ),
            interaction(
                "PATCH",
                one,
                sp_incident("identified", ["The cause is found.", "We are investigating."]),
            ),
        ],
    )
    write(
        "statuspage_unauthorized",
        [interaction("POST", STATUSPAGE, {"error": "Could not authenticate"}, status=401)],
    )
    write(
        "statuspage_rate_limited",
        [
            interaction(
                "POST",
                STATUSPAGE,
                {"error": "Rate limit exceeded"},
                status=420,
                headers={"Retry-After": ["60"]},
            )
        ],
    )
    write(
        "statuspage_find_sent",
        [interaction("GET", one, sp_incident("identified", ["The cause is found."]))],
    )


def publish_cassettes() -> None:
    """Two destinations in one run: X takes the thread, Statuspage rejects the key."""
    write(
        "publish_two_destinations",
        [
            interaction("POST", TWEETS, created_tweet("1001", "part one (1/2)"), status=201),
            interaction("POST", TWEETS, created_tweet("1002", "part two (2/2)"), status=201),
            interaction("POST", STATUSPAGE, {"error": "Could not authenticate"}, status=401),
        ],
    )


def dashboard_cassettes() -> None:
    """One update published from the dashboard to X."""
    write(
        "dashboard_publish_x",
        [interaction("POST", TWEETS, created_tweet("1001", "We are investigating."), status=201)],
    )


def main() -> None:
    CASSETTES.mkdir(exist_ok=True)
    dashboard_cassettes()
    publish_cassettes()
    x_cassettes()
    mastodon_cassettes()
    bluesky_cassettes()
    statuspage_cassettes()


if __name__ == "__main__":
    main()
