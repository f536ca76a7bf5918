"""A local X API v2 on 127.0.0.1: filtered stream rules, the stream itself and recent search."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from requests.adapters import HTTPAdapter

from tests.helpers.fake_http_stream import FakeStreamServer, Request

API = "https://api.twitter.com"
FIRST_ID = 1_862_000_000_000_000_000
STREAM = "/2/tweets/search/stream"
RULES = "/2/tweets/search/stream/rules"


def tweet(n: int, text: str, author: str = "11") -> dict[str, Any]:
    """A v2 post with the fields Flarewatch asks for (docs: data dictionary, Post object)."""
    return {
        "id": str(FIRST_ID + n),
        "text": text,
        "author_id": author,
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "lang": "en",
        "conversation_id": str(FIRST_ID + n),
        "edit_history_tweet_ids": [str(FIRST_ID + n)],
        "public_metrics": {
            "retweet_count": 0,
            "reply_count": 1,
            "like_count": 2,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 30,
        },
    }


USER = {
    "id": "11",
    "name": "Ann",
    "username": "ann",
    "verified": False,
    "verified_type": "none",
    "public_metrics": {
        "followers_count": 5,
        "following_count": 1,
        "tweet_count": 9,
        "listed_count": 0,
    },
}


class ToFake(HTTPAdapter):
    """Send tweepy's https://api.twitter.com requests to the fake instead."""

    def __init__(self, base: str):
        super().__init__()
        self.base = base

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        request.url = request.url.replace(API, self.base, 1)
        return super().send(request, **kwargs)


class FakeX(FakeStreamServer):
    """Rules kept by id; `publish` stores a post for search and streams it with its rule tags.

    `stream_status` is what a stream connection gets (403: an access level without streaming).
    """

    def __init__(self) -> None:
        super().__init__()
        self.rules: dict[str, dict[str, str]] = {}
        self.tweets: dict[int, dict[str, Any]] = {}
        self.stream_status = 200
        self.rules_status = 200  # 403: the rules endpoint refused too (no stream access)
        self.streams[STREAM] = lambda r: self.stream_status
        self.routes[("GET", RULES)] = self._get_rules
        self.routes[("POST", RULES)] = self._post_rules
        self.routes[("GET", "/2/tweets/search/recent")] = self._search

    def mount(self, session: Any) -> None:
        session.mount(API, ToFake(self.url))

    def publish(
        self, item: dict[str, Any], *, live: bool = True, tags: list[str] | None = None
    ) -> None:
        self.tweets[int(item["id"])] = item
        if live:
            rules = [{"id": i, "tag": r["tag"]} for i, r in self.rules.items()]
            rules = [r for r in rules if tags is None or r["tag"] in tags][:1]
            line = {"data": item, "includes": {"users": [USER]}, "matching_rules": rules}
            self.broadcast(json.dumps(line).encode() + b"\r\n")

    def _get_rules(self, request: Request) -> tuple[int, Any]:
        if self.rules_status != 200:
            problem = "https://api.twitter.com/2/problems/client-forbidden"
            body = {"title": "Client Forbidden", "reason": "client-not-enrolled", "type": problem}
            return self.rules_status, {
                **body,
                "detail": "This request must be made using an approved developer account that is enrolled in the requested endpoint.",
            }
        data = [{"id": i, **r} for i, r in self.rules.items()]
        sent = datetime.now(UTC).isoformat()
        return 200, (
            {"data": data, "meta": {"sent": sent, "result_count": len(data)}}
            if data
            else {"meta": {"sent": sent, "result_count": 0}}
        )

    def _post_rules(self, request: Request) -> tuple[int, Any]:
        body = request.json or {}
        sent = datetime.now(UTC).isoformat()
        if "delete" in body:
            ids = body["delete"]["ids"]
            for i in ids:
                self.rules.pop(i, None)
            return 200, {"meta": {"sent": sent, "summary": {"deleted": len(ids), "not_deleted": 0}}}
        added = []
        for rule in body["add"]:
            rule_id = str(1_860_000_000_000_000_000 + len(self.rules) + len(added) + 1)
            added.append({"id": rule_id, "value": rule["value"], "tag": rule["tag"]})
        self.rules.update({r["id"]: {"value": r["value"], "tag": r["tag"]} for r in added})
        summary = {"created": len(added), "not_created": 0, "valid": len(added), "invalid": 0}
        return 201, {"data": added, "meta": {"sent": sent, "summary": summary}}

    def _search(self, request: Request) -> tuple[int, Any]:
        """Newest first after `since_id`, `max_results` a page, `next_token` to page on."""
        since = int(request.query.get("since_id", 0))
        newer = sorted(
            (t for i, t in self.tweets.items() if i > since), key=lambda t: -int(t["id"])
        )
        start = int(request.query.get("next_token", "0"))
        size = int(request.query.get("max_results", 10))
        page = newer[start : start + size]
        if not page:
            return 200, {"meta": {"result_count": 0}}
        meta: dict[str, Any] = {
            "newest_id": page[0]["id"], "oldest_id": page[-1]["id"], "result_count": len(page),
        }  # fmt: skip
        if start + size < len(newer):
            meta["next_token"] = str(start + size)
        return 200, {"data": page, "includes": {"users": [USER]}, "meta": meta}
