"""A local Jetstream stand-in on 127.0.0.1: replays from a cursor, streams live, drops and stalls."""

from __future__ import annotations

import asyncio
import bisect
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import ServerConnection, serve
from websockets.protocol import State

COLLECTION = "app.bsky.feed.post"


def post_event(did: str, rkey: str, text: str, time_us: int, **record: Any) -> dict[str, Any]:
    """A Jetstream commit event creating a post (the shape Jetstream sends)."""
    body = {"$type": COLLECTION, "text": text, "createdAt": _iso(time_us), "langs": ["en"]}
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": f"r{time_us}",
            "operation": "create",
            "collection": COLLECTION,
            "rkey": rkey,
            "record": {**body, **record},
            "cid": f"bafy{rkey}",
        },
    }


def delete_event(did: str, rkey: str, time_us: int) -> dict[str, Any]:
    """A Jetstream commit event deleting a post."""
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": f"r{time_us}",
            "operation": "delete",
            "collection": COLLECTION,
            "rkey": rkey,
        },
    }


def _iso(time_us: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time_us / 1e6)) + (
        f".{time_us % 1_000_000 // 1000:03d}Z"
    )


def now_us() -> int:
    return time.time_ns() // 1000


class FakeJetstream:
    """Events kept in time order; each connection replays from its cursor, then follows live.

    `publish` takes an event dict (its `time_us` orders it) or raw frame bytes/str with an
    explicit time. `disconnect` closes every connection; `stall` stops sending for a while.
    """

    def __init__(self) -> None:
        self.times: list[int] = []
        self.frames: list[str | bytes] = []
        self.connections: list[str] = []  # request paths, with their cursor
        self._lock = threading.Lock()
        self._stall_until = 0.0
        self._loop = asyncio.new_event_loop()
        self._sockets: set[ServerConnection] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.url = ""

    def start(self) -> str:
        self._thread.start()
        server = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        self._server = server
        port = server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/subscribe"
        return self.url

    async def _serve(self) -> Any:
        return await serve(self._handle, "127.0.0.1", 0, max_size=None, compression=None)

    def stop(self) -> None:
        async def close() -> None:
            self._server.close(close_connections=False)
            for socket in list(self._sockets):
                socket.transport.abort()
            await asyncio.wait_for(self._server.wait_closed(), 5)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def publish(self, event: dict[str, Any] | str | bytes, time_us: int | None = None) -> None:
        frame = json.dumps(event) if isinstance(event, dict) else event
        at = int(event["time_us"]) if isinstance(event, dict) else int(time_us or now_us())
        with self._lock:
            index = bisect.bisect_right(self.times, at)
            self.times.insert(index, at)
            self.frames.insert(index, frame)

    def disconnect(self) -> None:
        """Drop every open connection at once, as a crashing server does (returns at once)."""

        def abort_all() -> None:
            for socket in list(self._sockets):
                socket.transport.abort()

        self._loop.call_soon_threadsafe(abort_all)

    def stall(self, seconds: float) -> None:
        """Keep connections open but send nothing for `seconds`."""
        self._stall_until = time.monotonic() + seconds

    async def _handle(self, socket: ServerConnection) -> None:
        path = socket.request.path if socket.request else ""
        self.connections.append(path)
        query = parse_qs(urlparse(path).query)
        with self._lock:
            if "cursor" in query:
                index = bisect.bisect_left(self.times, int(query["cursor"][0]))
            else:
                index = len(self.times)
        self._sockets.add(socket)
        try:
            await self._send_from(socket, index)
        except Exception:
            pass
        finally:
            self._sockets.discard(socket)

    async def _send_from(self, socket: ServerConnection, index: int) -> None:
        while socket.state is not State.CLOSED:
            if time.monotonic() < self._stall_until:
                await asyncio.sleep(0.05)
                continue
            with self._lock:
                pending = self.frames[index : index + 200]
            if not pending:
                await asyncio.sleep(0.01)
                continue
            for frame in pending:
                await socket.send(frame, text=True)
            index += len(pending)
