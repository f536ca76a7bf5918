"""A local Mastodon instance on 127.0.0.1: hashtag and public timelines (REST) and their SSE streams."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.helpers.fake_http_stream import FakeStreamServer, Request

FIRST_ID = 113_500_000_000_000_000


def status(n: int, text: str, *, tags: tuple[str, ...] = (), host: str = "social.example") -> dict:
    """A status in the shape the Mastodon API returns (docs: entities/Status)."""
    tag_html = " ".join(
        f'<a href="https://{host}/tags/{t}" class="mention hashtag" rel="tag">#<span>{t}</span></a>'
        for t in tags
    )
    return {
        "id": str(FIRST_ID + n),
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"https://{host}/users/ann/statuses/{FIRST_ID + n}",
        "url": f"https://{host}/@ann/{FIRST_ID + n}",
        "replies_count": 0,
        "reblogs_count": 1,
        "favourites_count": 2,
        "edited_at": None,
        "content": f"<p>{text} {tag_html}</p>".replace(" </p>", "</p>"),
        "reblog": None,
        "application": None,
        "account": {
            "id": "109000000000000001",
            "username": "ann",
            "acct": "ann" if host == "social.example" else f"ann@{host}",
            "display_name": "Ann",
            "url": f"https://{host}/@ann",
            "followers_count": 12,
            "following_count": 3,
            "statuses_count": 40,
            "bot": False,
            "created_at": "2024-01-01T00:00:00.000Z",
        },
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": t, "url": f"https://{host}/tags/{t}"} for t in tags],
        "emojis": [],
        "card": None,
        "poll": None,
    }


class FakeMastodon(FakeStreamServer):
    """Statuses are kept by id; `publish` also streams them to open hashtag and public streams.

    `refuse_streams` answers stream requests with 503 (an instance whose streaming server is
    down), so statuses published meanwhile reach clients only through the REST timelines.
    """

    content_type = "text/event-stream"
    keepalive = b":thump\n"

    def __init__(self) -> None:
        super().__init__()
        self.statuses: dict[int, dict[str, Any]] = {}
        self.refuse_streams = False
        self.routes[("GET", "/api/v1/instance/")] = lambda r: (200, self._instance())
        self.routes[("GET", "/api/v1/timelines/public")] = self._public
        for path in ("/api/v1/streaming/hashtag", "/api/v1/streaming/public"):
            self.streams[path] = lambda r: 503 if self.refuse_streams else 200

    def route_tag(self, tag: str) -> None:
        self.routes[("GET", f"/api/v1/timelines/tag/{tag}")] = lambda r: self._timeline(r, tag)

    def _instance(self) -> dict[str, Any]:
        ws = self.url.replace("http://", "ws://")
        return {"uri": "social.example", "version": "4.3.2", "urls": {"streaming_api": ws}}

    def publish(self, item: dict[str, Any], *, live: bool = True) -> None:
        self.statuses[int(item["id"])] = item
        if live:
            frame = f"event: update\ndata: {json.dumps(item)}\n\n".encode()
            self.broadcast(frame, "/api/v1/streaming/public")
            if item["tags"]:
                self.broadcast(frame, "/api/v1/streaming/hashtag")

    def delete(self, status_id: str) -> None:
        self.statuses.pop(int(status_id), None)
        self.broadcast(f"event: delete\ndata: {status_id}\n\n".encode())

    def _public(self, request: Request) -> tuple[int, Any]:
        return self._page(request, list(self.statuses.values()))

    def _timeline(self, request: Request, tag: str) -> tuple[int, Any]:
        tagged = [s for s in self.statuses.values() if tag in [t["name"] for t in s["tags"]]]
        return self._page(request, tagged)

    def _page(self, request: Request, items: list[dict[str, Any]]) -> tuple[int, Any]:
        """Mastodon's `min_id`: the `limit` statuses right after it, newest first."""
        after = int(request.query.get("min_id", 0))
        limit = int(request.query.get("limit", 20))
        newer = sorted((s for s in items if int(s["id"]) > after), key=lambda s: int(s["id"]))
        page = newer[:limit] if "min_id" in request.query else newer[-limit:]
        return 200, list(reversed(page))
