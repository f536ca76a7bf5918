"""A local HTTP/1.1 server on 127.0.0.1 for streaming APIs: JSON routes and chunked long responses."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

Route = Callable[["Request"], tuple[int, Any]]


class Request:
    """What a route sees: method, path, query string and JSON body."""

    def __init__(self, method: str, path: str, body: bytes):
        parsed = urlparse(path)
        self.method, self.path, self.raw_path = method, parsed.path, path
        self.query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        self.json = json.loads(body) if body else None


class Subscriber:
    """One open streaming response: frames queued for it, and whether it should be dropped."""

    def __init__(self, path: str):
        self.path = path
        self.frames: queue.Queue[bytes] = queue.Queue()
        self.dropped = False


class FakeStreamServer:
    """Routes answer JSON; a streaming route keeps the response open, sending queued frames
    and a keep-alive every `keepalive_s` until `disconnect()` drops every open stream."""

    keepalive = b"\r\n"

    def __init__(self, keepalive_s: float = 0.2):
        self.routes: dict[tuple[str, str], Route] = {}
        self.streams: dict[str, Callable[[Request], int]] = {}  # path -> status to answer
        self.subscribers: list[Subscriber] = []
        self.requests: list[str] = []
        self.keepalive_s = keepalive_s
        self.stalled = False  # keep streams open but send nothing, not even keep-alives
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> str:
        self.thread.start()
        return self.url

    def stop(self) -> None:
        self.disconnect()
        self.server.shutdown()
        self.server.server_close()

    def broadcast(self, frame: bytes, path: str | None = None) -> None:
        """Send `frame` to every open stream (on `path` only, when given)."""
        with self.lock:
            for sub in self.subscribers:
                if path is None or sub.path == path:
                    sub.frames.put(frame)

    def disconnect(self) -> None:
        """Drop every open stream, as a restarting server does."""
        with self.lock:
            for sub in self.subscribers:
                sub.dropped = True

    def open_streams(self) -> int:
        with self.lock:
            return sum(1 for s in self.subscribers if not s.dropped)

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(method, handler.path, handler.rfile.read(length) if length else b"")
        with self.lock:
            self.requests.append(f"{method} {handler.path}")
        if method == "GET" and request.path in self.streams:
            status = self.streams[request.path](request)
            if status == 200:
                return self._stream(handler, request)
            return self._reply(handler, status, {"title": "refused", "status": status})
        route = self.routes.get((method, request.path))
        if route is None:
            return self._reply(handler, 404, {"error": "Record not found"})
        self._reply(handler, *route(request))

    def _reply(self, handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _stream(self, handler: BaseHTTPRequestHandler, request: Request) -> None:
        sub = Subscriber(request.path)
        handler.send_response(200)
        handler.send_header("Content-Type", self.content_type)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        with self.lock:
            self.subscribers.append(sub)
        handler.close_connection = True
        try:
            self._pump(handler, sub)
        except OSError:
            pass
        finally:
            with self.lock:
                self.subscribers.remove(sub)

    content_type = "application/json"

    def _pump(self, handler: BaseHTTPRequestHandler, sub: Subscriber) -> None:
        last = time.monotonic()
        while not sub.dropped:
            if self.stalled:
                time.sleep(0.05)
                continue
            try:
                frame = sub.frames.get(timeout=0.05)
            except queue.Empty:
                if time.monotonic() - last < self.keepalive_s:
                    continue
                frame = self.keepalive
            last = time.monotonic()
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            handler.wfile.flush()
        # Dropped: cut the connection mid-body (no closing chunk), as a crash does.
