"""Write the collector cassettes from responses in each API's documented shape.

No live credentials were available when these were made, so each response below is
written out by hand from the platform's API reference (field names, nesting, headers)
and passed through the same scrubbers as a live recording. To replace one with a real
recording: delete the file and run its test with FLAREWATCH_RECORD=1 and credentials set.

Run: .venv/bin/python -m tests.collectors.build_cassettes
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import yaml

from tests.collectors.recording import CASSETTES, PLACEHOLDER_JWT

T = 1772452800  # 2026-03-02T12:00:00Z
JSON = {"Content-Type": ["application/json; charset=utf-8"]}


def url(base: str, **params: Any) -> str:
    return f"{base}?{urlencode(params)}" if params else base


def interaction(
    method: str,
    uri: str,
    body: Any,
    *,
    status: int = 200,
    headers: dict[str, list[str]] | None = None,
    request_body: str | None = None,
    raw: str | None = None,
) -> dict[str, Any]:
    return {
        "request": {
            "method": method,
            "uri": uri,
            "body": request_body,
            "headers": {"Authorization": ["<AUTHORIZATION>"]},
        },
        "response": {
            "status": {"code": status, "message": "OK" if status == 200 else "Error"},
            "headers": {**JSON, **(headers or {})},
            "body": {"string": raw if raw is not None else json.dumps(body)},
        },
    }


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


BUILT: dict[str, list[dict[str, Any]]] = {}


def write(name: str, interactions: list[dict[str, Any]]) -> None:
    BUILT[name] = interactions
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


# --- X (GET /2/tweets/search/recent) -----------------------------------------------------------

X_URL = "https://api.twitter.com/2/tweets/search/recent"
X_QUERY = "(acmecloud OR @acmecloud OR #acmedown) -is:retweet"
X_PARAMS = {
    "query": X_QUERY,
    "max_results": 100,
    "expansions": "author_id,referenced_tweets.id",
    "tweet.fields": "created_at,lang,public_metrics,author_id,conversation_id,"
    "in_reply_to_user_id,referenced_tweets,note_tweet",
    "user.fields": "username,name,public_metrics,verified,verified_type",
}
X_LIMITS = {
    "x-rate-limit-limit": ["450"],
    "x-rate-limit-remaining": ["449"],
    "x-rate-limit-reset": [str(T + 900)],
}


def tweet(i: int, text: str, user: str, minute: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"186500000000000000{i}",
        "text": text,
        "author_id": user,
        "created_at": f"2026-03-02T12:{minute:02d}:00.000Z",
        "lang": "en",
        "conversation_id": f"186500000000000000{i}",
        "edit_history_tweet_ids": [f"186500000000000000{i}"],
        "public_metrics": {
            "retweet_count": i,
            "reply_count": 1,
            "like_count": 2 * i,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 100 * i,
        },
        **extra,
    }


X_USERS = [
    {
        "id": "2244994945",
        "name": "Dana Ops",
        "username": "danaops",
        "verified": False,
        "verified_type": "blue",
        "public_metrics": {
            "followers_count": 1520,
            "following_count": 310,
            "tweet_count": 8800,
            "listed_count": 12,
            "like_count": 400,
        },
    },
    {
        "id": "783214",
        "name": "Sam",
        "username": "samsre",
        "verified": False,
        "verified_type": "none",
        "public_metrics": {
            "followers_count": 87,
            "following_count": 90,
            "tweet_count": 120,
            "listed_count": 0,
            "like_count": 15,
        },
    },
]
TWEET_3 = tweet(
    3,
    "@acmecloud is down again, 502 on every deploy 😡",
    "2244994945",
    9,
    in_reply_to_user_id="99",
    referenced_tweets=[{"type": "replied_to", "id": "1864999999999999999"}],
)
TWEET_2 = tweet(2, "acmecloud status page says all green. it is not.", "783214", 5)
TWEET_1 = tweet(1, "anyone else seeing acmecloud timeouts in eu-west?", "2244994945", 1)


def x_cassettes() -> None:
    page1 = {
        "data": [TWEET_3, TWEET_2],
        "includes": {"users": X_USERS},
        "meta": {
            "newest_id": TWEET_3["id"],
            "oldest_id": TWEET_2["id"],
            "result_count": 2,
            "next_token": "b26v89c19zqg8o3fpzbkk",
        },
    }
    # The second page repeats TWEET_2: the same post on two pages must be stored once.
    page2 = {
        "data": [TWEET_2, TWEET_1],
        "includes": {"users": X_USERS},
        "meta": {"newest_id": TWEET_2["id"], "oldest_id": TWEET_1["id"], "result_count": 2},
    }
    empty = {"meta": {"result_count": 0}}
    write(
        "x_search",
        [
            interaction("GET", url(X_URL, **X_PARAMS), page1, headers=X_LIMITS),
            interaction(
                "GET",
                url(X_URL, **X_PARAMS, next_token="b26v89c19zqg8o3fpzbkk"),
                page2,
                headers=X_LIMITS,
            ),
            interaction(
                "GET", url(X_URL, **X_PARAMS, since_id=TWEET_3["id"]), empty, headers=X_LIMITS
            ),
        ],
    )
    too_many = {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }
    write(
        "x_rate_limited",
        [
            interaction(
                "GET",
                url(X_URL, **X_PARAMS),
                too_many,
                status=429,
                headers={
                    "x-rate-limit-limit": ["450"],
                    "x-rate-limit-remaining": ["0"],
                    "x-rate-limit-reset": [str(T + 30)],
                },
            ),
            interaction(
                "GET",
                url(X_URL, **X_PARAMS),
                {
                    "data": [TWEET_1],
                    "includes": {"users": X_USERS},
                    "meta": {
                        "newest_id": TWEET_1["id"],
                        "oldest_id": TWEET_1["id"],
                        "result_count": 1,
                    },
                },
                headers=X_LIMITS,
            ),
        ],
    )


# Shapes seen in real recent-search traffic: entity-escaped text, long posts, quotes, and the
# 400 that recent search gives a since_id from before its 7-day window.
ESCAPED = tweet(
    4,
    "acmecloud: NYC &lt; London today, AT&amp;T &gt; us. Typed literally: &amp;lt;3",
    "783214",
    20,
)
LONG_TEXT = (
    "acmecloud incident write-up from our side, since the status page still says green: "
    + "deploys failed with 502 from 11:50, then the API timed out for every region we tried. " * 3
    + "Full timeline in the thread."
)
NOTE = tweet(
    5,
    LONG_TEXT[:273] + "… https://t.co/AbCdEf12",
    "2244994945",
    21,
    note_tweet={
        "text": LONG_TEXT,
        "entities": {"cashtags": [], "hashtags": [], "mentions": [], "urls": []},
    },
)
QUOTED = {
    "id": "1864000000000000001",
    "text": "Scheduled maintenance on acmecloud tonight, no impact expected &amp; no downtime.",
    "author_id": "99",
    "created_at": "2026-03-01T20:00:00.000Z",
    "edit_history_tweet_ids": ["1864000000000000001"],
}
QUOTE = tweet(
    6,
    '"no impact" they said https://t.co/QuOtE123',
    "783214",
    22,
    referenced_tweets=[{"type": "quoted", "id": QUOTED["id"]}],
)
SINCE_ID_TOO_OLD = {
    "errors": [
        {
            "parameters": {"since_id": ["1865000000000000003"]},
            "message": "Invalid 'since_id':'1865000000000000003'. 'since_id' must be a tweet id "
            "created after 2026-02-23T12:00:00Z. Please use a 'since_id' that is larger than "
            "1893000000000000000",
        }
    ],
    "title": "Invalid Request",
    "detail": "One or more parameters to your request was invalid.",
    "type": "https://api.twitter.com/2/problems/invalid-request",
}
X_WINDOW_START = "2026-02-23T12:05:00Z"  # NOW - 7 days + 5 minutes


def x_real_shapes_cassettes() -> None:
    page = {
        "data": [QUOTE, NOTE, ESCAPED],
        "includes": {"users": X_USERS, "tweets": [QUOTED]},
        "meta": {"newest_id": QUOTE["id"], "oldest_id": ESCAPED["id"], "result_count": 3},
    }
    empty = {"meta": {"result_count": 0}}
    write(
        "x_entities_notes_quotes",
        [
            interaction("GET", url(X_URL, **X_PARAMS), page, headers=X_LIMITS),
            interaction(
                "GET", url(X_URL, **X_PARAMS, since_id=QUOTE["id"]), empty, headers=X_LIMITS
            ),
        ],
    )
    after_gap = {
        "data": [ESCAPED],
        "includes": {"users": X_USERS},
        "meta": {"newest_id": ESCAPED["id"], "oldest_id": ESCAPED["id"], "result_count": 1},
    }
    write(
        "x_since_id_too_old",
        [
            interaction(
                "GET",
                url(X_URL, **X_PARAMS, since_id=TWEET_3["id"]),
                SINCE_ID_TOO_OLD,
                status=400,
                headers=X_LIMITS,
            ),
            interaction(
                "GET",
                url(X_URL, **X_PARAMS, start_time=X_WINDOW_START),
                after_gap,
                headers=X_LIMITS,
            ),
            interaction(
                "GET", url(X_URL, **X_PARAMS, since_id=ESCAPED["id"]), empty, headers=X_LIMITS
            ),
        ],
    )


# --- Reddit (praw: OAuth token, then listings) ------------------------------------------------

REDDIT_TOKEN = {
    "access_token": "<ACCESS_TOKEN>",
    "token_type": "bearer",
    "expires_in": 86400,
    "scope": "*",
}
REDDIT_SEARCH = "https://oauth.reddit.com/r/sysadmin+devops/search/"
REDDIT_COMMENTS = "https://oauth.reddit.com/r/sysadmin+devops/comments/"


def submission(i: int, title: str, created: int) -> dict[str, Any]:
    return {
        "kind": "t3",
        "data": {
            "id": f"1b{i}x",
            "name": f"t3_1b{i}x",
            "subreddit": "sysadmin",
            "title": title,
            "selftext": "Our pipelines fail with 502 from the acmecloud API since 11:50 UTC.",
            "author": "pager_weary",
            "author_fullname": "t2_abc12",
            "created_utc": float(created),
            "score": 42,
            "num_comments": 17,
            "permalink": f"/r/sysadmin/comments/1b{i}x/slug/",
            "url": f"https://www.reddit.com/r/sysadmin/comments/1b{i}x/slug/",
            "over_18": False,
            "subreddit_id": "t5_2qh3n",
            "ups": 42,
            "upvote_ratio": 0.96,
        },
    }


def comment(i: int, body: str, created: int) -> dict[str, Any]:
    return {
        "kind": "t1",
        "data": {
            "id": f"kc{i}",
            "name": f"t1_kc{i}",
            "body": body,
            "author": "k8s_anna",
            "author_fullname": "t2_def34",
            "created_utc": float(created),
            "score": 5,
            "parent_id": "t3_1b1x",
            "link_id": "t3_1b1x",
            "subreddit": "devops",
            "permalink": f"/r/devops/comments/1b1x/slug/kc{i}/",
            "replies": "",
            "ups": 5,
        },
    }


def listing(children: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {
            "after": after,
            "dist": len(children),
            "modhash": None,
            "geo_filter": "",
            "children": children,
            "before": None,
        },
    }


def reddit_cassettes() -> None:
    token = interaction(
        "POST",
        "https://www.reddit.com/api/v1/access_token",
        REDDIT_TOKEN,
        request_body="grant_type=client_credentials",
    )
    search = url(
        REDDIT_SEARCH,
        q='acmecloud OR "acme cloud"',
        sort="new",
        restrict_sr="True",
        syntax="lucene",
        t="all",
        limit=100,
        raw_json=1,
    )
    comments = url(REDDIT_COMMENTS, limit=100, raw_json=1)
    write(
        "reddit_search_and_comments",
        [
            token,
            interaction(
                "GET",
                search,
                listing(
                    [
                        submission(2, "acmecloud down?", T + 600),
                        submission(1, "Acme Cloud 502s", T + 60),
                    ]
                ),
                headers={
                    "x-ratelimit-remaining": ["995.0"],
                    "x-ratelimit-used": ["5"],
                    "x-ratelimit-reset": ["420"],
                },
            ),
            interaction(
                "GET",
                comments,
                listing(
                    [
                        comment(2, "Same here, acmecloud builds stuck for an hour", T + 700),
                        comment(1, "unrelated: kubernetes 1.36 upgrade notes", T + 650),
                    ]
                ),
            ),
        ],
    )


def reddit_real_shapes_cassettes() -> None:
    """A removed post, a deleted author (no author_fullname), comments as the listing has them."""
    removed = submission(3, "acmecloud billing ate our credits", T + 900)
    removed["data"].update(selftext="[removed]", removed_by_category="moderator")
    orphan = submission(4, "acmecloud region map?", T + 800)
    orphan["data"].update(author="[deleted]", selftext="")
    del orphan["data"]["author_fullname"]
    # On a comment, num_comments is its submission's; its own replies come nested in `replies`.
    busy = comment(3, "acmecloud support says it is fixed. It is not.", T + 950)
    busy["data"].update(num_comments=57, link_title="acmecloud down?")
    reply = comment(4, "same", T + 960)
    reply["data"].update(parent_id="t1_kc3", body="same, AcmeCloud still 502s")
    busy["data"]["replies"] = listing([reply])
    old = comment(5, "acmecloud ate my weekend (2016 and still bitter)", T + 940)
    del old["data"]["permalink"]
    inside = comment(
        6, "the acmecloudformation template is fine, it's the laws of physics", T + 930
    )
    search = url(
        REDDIT_SEARCH,
        q="acmecloud",
        sort="new",
        restrict_sr="True",
        syntax="lucene",
        t="all",
        limit=100,
        raw_json=1,
    )
    write(
        "reddit_real_shapes",
        [
            interaction(
                "POST",
                "https://www.reddit.com/api/v1/access_token",
                REDDIT_TOKEN,
                request_body="grant_type=client_credentials",
            ),
            interaction("GET", search, listing([removed, orphan])),
            interaction(
                "GET",
                url(REDDIT_COMMENTS, limit=100, raw_json=1),
                listing([busy, old, inside]),
            ),
        ],
    )


# --- Mastodon (GET /api/v1/timelines/tag/:hashtag) ---------------------------------------------

MASTO_TAG = "https://mastodon.social/api/v1/timelines/tag/acmedown"


def status(i: int, text: str, minute: int) -> dict[str, Any]:
    sid = f"11300000000000000{i}"
    return {
        "id": sid,
        "created_at": f"2026-03-02T12:{minute:02d}:00.000Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"https://hachyderm.io/users/ops_lee/statuses/11300000000000000{i}",
        "url": f"https://hachyderm.io/@ops_lee/11300000000000000{i}",
        "replies_count": 0,
        "reblogs_count": i,
        "favourites_count": 3 * i,
        "edited_at": None,
        "content": f'<p>{text} <a href="https://mastodon.social/tags/acmedown" class="mention '
        f'hashtag" rel="tag">#<span>acmedown</span></a></p>',
        "reblog": None,
        "application": None,
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": "acmedown", "url": "https://mastodon.social/tags/acmedown"}],
        "emojis": [],
        "card": None,
        "poll": None,
        "account": {
            "id": "109000000000000001",
            "username": "ops_lee",
            "acct": "ops_lee@hachyderm.io",
            "display_name": "Lee (on call)",
            "locked": False,
            "bot": False,
            "created_at": "2022-11-07T00:00:00.000Z",
            "note": "<p>SRE</p>",
            "url": "https://hachyderm.io/@ops_lee",
            "avatar": "",
            "header": "",
            "followers_count": 640,
            "following_count": 200,
            "statuses_count": 3100,
            "last_status_at": "2026-03-02",
            "emojis": [],
            "fields": [],
        },
    }


def mastodon_cassettes() -> None:
    link = {
        "Link": [
            f'<{MASTO_TAG}?max_id=113000000000000001>; rel="next", '
            f'<{MASTO_TAG}?min_id=113000000000000002>; rel="prev"'
        ]
    }
    write(
        "mastodon_hashtag",
        [
            interaction(
                "GET",
                url(MASTO_TAG, limit=40),
                [
                    status(2, "acme cloud is down &amp; so is our release", 7),
                    status(1, "is acmecloud down for anyone else?", 3),
                ],
                headers=link,
            ),
            interaction(
                "GET",
                url(MASTO_TAG, limit=40, min_id="113000000000000002"),
                [status(3, "acmecloud back up, 40 minutes of downtime", 30)],
            ),
            interaction("GET", url(MASTO_TAG, limit=40, min_id="113000000000000003"), []),
        ],
    )


MASTO = "https://mastodon.social/api/"


def local_status(sid: str, text: str, minute: int, **extra: Any) -> dict[str, Any]:
    """A status by an account local to mastodon.social: its `acct` has no instance."""
    base = status(1, text, minute)
    base["account"] = {
        **base["account"],
        "id": "1",
        "username": "halcy",
        "acct": "halcy",
        "url": "https://mastodon.social/@halcy",
    }
    return {
        **base,
        "id": sid,
        "uri": f"https://mastodon.social/users/halcy/statuses/{sid}",
        "url": f"https://mastodon.social/@halcy/{sid}",
        **extra,
    }


def mastodon_real_shapes_cassettes() -> None:
    parent = local_status("113100000000000001", "acmecloud: is anyone else getting 502s?", 1)
    cw = local_status(
        "113100000000000002",
        "the whole cluster is gone and so is our weekend",
        2,
        spoiler_text="acmecloud outage rant",
        sensitive=True,
        in_reply_to_id=parent["id"],
        in_reply_to_account_id="1",
    )
    far_reply = status(4, "acmecloud: same in eu-west", 4)
    far_reply.update(in_reply_to_id="113099999999999999", in_reply_to_account_id="7")
    remote_parent = status(9, "acmecloud status page: all green", 0)
    remote_parent.update(
        id="113099999999999999",
        uri="https://infosec.exchange/users/acmestatus/statuses/111",
        url="https://infosec.exchange/@acmestatus/111",
    )
    boosted = status(5, "acmecloud postmortem is up", 5)
    boost = local_status("113100000000000006", "", 6, reblog=boosted, content="")
    boost["uri"] = "https://mastodon.social/users/halcy/statuses/113100000000000006/activity"
    write(
        "mastodon_real_shapes",
        [
            interaction("GET", url(MASTO_TAG, limit=40), [boost, far_reply, cw, parent]),
            interaction("GET", MASTO + "v1/statuses/113099999999999999", remote_parent),
        ],
    )


def mastodon_search_cassettes() -> None:
    """Run 1: the instance answers 503 (the retrier's 4 tries); run 2: version, then search."""
    unavailable = {"error": "Service Unavailable"}
    v1 = {"uri": "mastodon.social", "title": "Mastodon", "version": "4.3.2"}
    v2 = {
        "domain": "mastodon.social",
        "title": "Mastodon",
        "version": "4.3.2",
        "api_versions": {"mastodon": 2},
    }
    search = url(
        MASTO + "v2/search", q="acmecloud", exclude_unreviewed=1, type="statuses", limit=40
    )
    write(
        "mastodon_search_outage",
        [
            *[
                interaction("GET", MASTO + "v1/instance/", unavailable, status=503)
                for _ in range(4)
            ],
            interaction("GET", MASTO + "v1/instance/", v1),
            interaction("GET", MASTO + "v2/instance/", v2),
            interaction(
                "GET",
                search,
                {"accounts": [], "hashtags": [], "statuses": [status(7, "acmecloud is back", 40)]},
            ),
        ],
    )


# --- Bluesky (com.atproto.server.createSession, app.bsky.feed.searchPosts) ----------------------

BSKY = "https://bsky.social/xrpc/"


def post_view(rkey: str, text: str, minute: int, likes: int) -> dict[str, Any]:
    return {
        "uri": f"at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/{rkey}",
        "cid": "bafyreib2rxk3rh6kzwq6lfe6gwlsyjl7ycnzfjp3a2g2k6x5lvovq7z4sa",
        "author": {
            "did": "did:plc:z72i7hdynmk6r22z27h6tvur",
            "handle": "devon.bsky.social",
            "displayName": "Devon",
            "avatar": "https://cdn.bsky.app/img/avatar/plain/x.jpg",
            "labels": [],
            "createdAt": "2023-04-12T04:53:57.057Z",
            "verification": {
                "verifications": [],
                "verifiedStatus": "none",
                "trustedVerifierStatus": "none",
            },
        },
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": f"2026-03-02T12:{minute:02d}:00.000Z",
            "langs": ["en"],
            "text": text,
        },
        "replyCount": 0,
        "repostCount": 1,
        "likeCount": likes,
        "quoteCount": 0,
        "indexedAt": f"2026-03-02T12:{minute:02d}:01.000Z",
        "labels": [],
    }


def bluesky_cassettes() -> None:
    session = {
        "did": "did:plc:flarewatchtest",
        "handle": "flarewatch-test.bsky.social",
        "email": "ops@example.com",
        "emailConfirmed": True,
        "emailAuthFactor": False,
        "accessJwt": PLACEHOLDER_JWT,
        "refreshJwt": PLACEHOLDER_JWT,
        "active": True,
    }
    search = BSKY + "app.bsky.feed.searchPosts"
    write(
        "bluesky_search",
        [
            interaction(
                "POST",
                BSKY + "com.atproto.server.createSession",
                session,
                request_body=json.dumps(
                    {"identifier": "flarewatch-test.bsky.social", "password": "<PASSWORD>"}
                ),
            ),
            interaction(
                "GET",
                url(search, q="acmecloud", sort="latest", limit=100),
                {
                    "cursor": "2",
                    "hitsTotal": 3,
                    "posts": [
                        post_view("3lb3", "acmecloud outage day 😩 #acmedown", 20, 9),
                        post_view("3lb2", "acmecloud: all my builds are red", 12, 2),
                    ],
                },
                headers={
                    "ratelimit-limit": ["3000"],
                    "ratelimit-remaining": ["2999"],
                    "ratelimit-reset": [str(T + 300)],
                    "ratelimit-policy": ["3000;w=300"],
                },
            ),
            interaction(
                "GET",
                url(search, q="acmecloud", sort="latest", limit=100, cursor="2"),
                {"hitsTotal": 3, "posts": [post_view("3lb1", "is acmecloud slow today?", 2, 0)]},
            ),
        ],
    )


# --- Hacker News (Algolia search_by_date) --------------------------------------------------------

HN = "https://hn.algolia.com/api/v1/search_by_date"


def hn_story(oid: int, title: str, at: int) -> dict[str, Any]:
    return {
        "_tags": ["story", "author_jdoe", f"story_{oid}"],
        "author": "jdoe",
        "created_at": "2026-03-02T12:00:00Z",
        "created_at_i": at,
        "num_comments": 12,
        "objectID": str(oid),
        "points": 31,
        "story_id": oid,
        "title": title,
        "url": "https://status.acmecloud.example/incidents/42",
        "updated_at": "2026-03-02T13:00:00Z",
        "children": [oid + 1],
        "_highlightResult": {"title": {"value": title, "matchLevel": "full"}},
    }


def hn_comment(oid: int, text: str, at: int) -> dict[str, Any]:
    return {
        "_tags": ["comment", "author_pat", f"story_{oid - 5}"],
        "author": "pat",
        "comment_text": text,
        "created_at": "2026-03-02T12:00:00Z",
        "created_at_i": at,
        "objectID": str(oid),
        "parent_id": oid - 5,
        "story_id": oid - 5,
        "story_title": "Acme Cloud outage",
        "story_url": "https://status.acmecloud.example/",
        "updated_at": "2026-03-02T13:00:00Z",
        "children": [],
    }


def hn_page(hits: list[dict[str, Any]], page_size: int) -> dict[str, Any]:
    return {
        "hits": hits,
        "nbHits": 3,
        "page": 0,
        "nbPages": 1,
        "hitsPerPage": page_size,
        "exhaustiveNbHits": True,
        "exhaustiveTypo": True,
        "query": "acmecloud",
        "params": "query=acmecloud",
        "processingTimeMS": 2,
    }


HN_A = hn_story(43000010, "Acme Cloud is down (status.acmecloud.example)", T + 300)
HN_B = hn_comment(
    43000020, "<p>acmecloud&#x27;s status page is a lie, we&#x27;re hard down</p>", T + 200
)
HN_C = hn_comment(43000030, "<p>Ask HN: moving off acmecloud?</p>", T + 100)


def hackernews_cassettes() -> None:
    base = {"query": "acmecloud", "tags": "(story,comment)", "hitsPerPage": 2}
    write(
        "hackernews_pages",
        [
            interaction("GET", url(HN, **base), hn_page([HN_A, HN_B], 2)),
            # The inclusive bound returns HN_B again: the same post on two pages.
            interaction(
                "GET",
                url(HN, **base, numericFilters=f"created_at_i<={T + 200}"),
                hn_page([HN_B, HN_C], 2),
            ),
            interaction(
                "GET",
                url(HN, **base, numericFilters=f"created_at_i<={T + 100}"),
                hn_page([HN_C], 2),
            ),
        ],
    )
    cli_base = {"query": "acmecloud", "tags": "(story,comment)", "hitsPerPage": 100}
    write(
        "hackernews_cli",
        [interaction("GET", url(HN, **cli_base), hn_page([HN_A, HN_B, HN_C], 100))],
    )


# --- `flarewatch collect SOURCE` twice: the second run stores nothing new ----------------------


def cli_cassettes() -> None:
    write("cli_x", BUILT["x_entities_notes_quotes"])
    write("cli_reddit", BUILT["reddit_real_shapes"] * 2)  # each run logs in and lists again
    newest = "113100000000000006"
    write(
        "cli_mastodon",
        [
            *BUILT["mastodon_real_shapes"],
            interaction("GET", url(MASTO_TAG, limit=40, min_id=newest), []),
        ],
    )
    login, page1, page2 = BUILT["bluesky_search"]
    search = BSKY + "app.bsky.feed.searchPosts"
    no_tag_posts = interaction(
        "GET", url(search, q="#acmedown", sort="latest", limit=100), {"posts": []}
    )
    # The floor (newest post, 12:20) less the 10-minute overlap: two posts are seen again.
    again = interaction(
        "GET",
        url(search, q="acmecloud", sort="latest", limit=100, since="2026-03-02T12:10:00+00:00"),
        {
            "posts": [
                post_view("3lb3", "acmecloud outage day 😩 #acmedown", 20, 9),
                post_view("3lb2", "acmecloud: all my builds are red", 12, 2),
            ]
        },
    )
    write("cli_bluesky", [login, page1, page2, no_tag_posts, login, again, no_tag_posts])
    (first,) = BUILT["hackernews_cli"]
    hn_again = interaction(
        "GET",
        url(
            HN,
            query="acmecloud",
            tags="(story,comment)",
            hitsPerPage=100,
            numericFilters=f"created_at_i>{T}",
        ),
        hn_page([HN_A, HN_B, HN_C], 100),
    )
    write("cli_hackernews", [first, hn_again])


def main() -> None:
    x_cassettes()
    x_real_shapes_cassettes()
    reddit_cassettes()
    reddit_real_shapes_cassettes()
    mastodon_cassettes()
    mastodon_real_shapes_cassettes()
    mastodon_search_cassettes()
    bluesky_cassettes()
    hackernews_cassettes()
    cli_cassettes()


if __name__ == "__main__":
    main()
