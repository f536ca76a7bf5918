"""A small local HTTP endpoint that accepts Statuspage and PagerDuty webhook JSON."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flarewatch.webhooks.events import IncidentEvent, UnknownPayloadError, parse_event

MAX_BODY = 1_000_000
# A slow client may take this long per read, and this long for its whole request.
READ_TIMEOUT_S = 10.0
REQUEST_DEADLINE_S = 30.0
MAX_CONNECTIONS = 32
CHUNK = 65_536
Apply = Callable[[IncidentEvent], int]
Headers = Sequence[tuple[str, str]]
_DIGITS = re.compile(r"[0-9]{1,12}")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What the listener answers: an HTTP status and a JSON body."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


class Rejected(Exception):
    """A request refused before or while its body is read."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.reply = Reply(status, {"error": message})


def pagerduty_signature(secret: str, body: bytes) -> str:
    """The `X-PagerDuty-Signature` value PagerDuty (webhooks v3) sends for `body`."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header may hold anything.
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def authentic(secret: str | None, path: str, headers: Any, body: bytes) -> bool:
    """Whether a request proves it knows the secret (always true without one).

    PagerDuty signs each body (`X-PagerDuty-Signature`, one or more comma-separated `v1=`
    values); Statuspage cannot sign, so its webhook URL carries the secret as the last path
    segment (`http://host:8502/webhooks/SECRET`).
    """
    if not secret:
        return True
    expected = pagerduty_signature(secret, body)
    signatures = _header(headers, "X-PagerDuty-Signature").split(",")
    if any(_same(s.strip(), expected) for s in signatures):
        return True
    token = path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return _same(token, secret)


def _header(headers: Any, name: str) -> str:
    """A header's value whatever its case (http.server's Message or a plain dict)."""
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if k.lower() == wanted), "")


def header_values(headers: Headers) -> dict[str, str]:
    """Headers by lower-cased name; a name repeated with different values is refused (400)."""
    values: dict[str, str] = {}
    for name, value in headers:
        key = name.strip().lower()
        if key in values and values[key] != value:
            raise Rejected(400, f"conflicting {key} headers")
        values[key] = value
    return values


def content_length(headers: dict[str, str]) -> int:
    """The body length a request announces: ASCII digits, at most MAX_BODY (else 400/411/413)."""
    if "transfer-encoding" in headers:
        raise Rejected(411, "send a Content-Length, not a Transfer-Encoding")
    raw = headers.get("content-length")
    if raw is None:
        raise Rejected(411, "Content-Length required")
    if not _DIGITS.fullmatch(raw.strip()):
        raise Rejected(400, "Content-Length must be a non-negative whole number")
    length = int(raw.strip())
    if length > MAX_BODY:
        raise Rejected(413, "body too large")
    return length


def read_body(read: Callable[[int], bytes], length: int, deadline: float) -> bytes:
    """Read exactly `length` bytes in chunks, giving up at `deadline` (monotonic) or at EOF."""
    parts: list[bytes] = []
    left = length
    while left > 0:
        if time.monotonic() > deadline:
            raise Rejected(408, "request took too long")
        chunk = read(min(CHUNK, left))
        if not chunk:
            raise Rejected(400, "body shorter than Content-Length")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def decide(
    apply: Apply, secret: str | None, path: str, headers: dict[str, str], body: bytes
) -> Reply:
    """Authenticate, parse and apply one request whose body is already read."""
    if not authentic(secret, path, headers, body):
        return Reply(401, {"error": "signature or token missing or wrong"})
    try:
        event = parse_event(json.loads(body or b"null"))
    except UnknownPayloadError as exc:
        return Reply(400, {"error": str(exc)})
    except (ValueError, KeyError, TypeError, RecursionError):
        return Reply(400, {"error": "invalid payload"})
    incident_id = apply(event)
    return Reply(200, {"incident_id": incident_id, "action": event.action})


def handle_request(
    apply: Apply,
    secret: str | None,
    path: str,
    headers: Headers,
    read: Callable[[int], bytes],
    deadline: float,
) -> Reply:
    """Answer one POST: every failure is a Reply (400/401/408/411/413), never an exception."""
    try:
        values = header_values(headers)
        body = read_body(read, content_length(values), deadline)
    except Rejected as rejected:
        return rejected.reply
    except (TimeoutError, OSError):
        return Reply(408, {"error": "request took too long"})
    return decide(apply, secret, path, values, body)


def _handler(apply: Apply, secret: str | None, read_timeout: float, deadline_s: float) -> type:
    class Handler(BaseHTTPRequestHandler):
        timeout = read_timeout  # per socket read, headers included

        def setup(self) -> None:
            super().setup()
            self._deadline = time.monotonic() + deadline_s
            # However slowly a client trickles bytes in, its connection ends at the deadline.
            self._watchdog = threading.Timer(deadline_s, self._cut)
            self._watchdog.daemon = True
            self._watchdog.start()

        def _cut(self) -> None:
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def finish(self) -> None:
            self._watchdog.cancel()
            super().finish()

        def do_POST(self) -> None:
            try:
                reply = handle_request(
                    apply, secret, self.path, self.headers.items(), self.rfile.read, self._deadline
                )
            except Exception:  # a failure to store is ours: log it, answer 500
                log.exception("incident webhook could not be applied")
                reply = Reply(500, {"error": "internal error"})
            self._reply(reply)

        def _reply(self, reply: Reply) -> None:
            data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if reply.status != 200:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return  # request lines could carry tokens in query strings; stay quiet

    return Handler


class ListenerServer(ThreadingHTTPServer):
    """A threaded server that turns connections away beyond `MAX_CONNECTIONS` at once."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, max_connections: int):
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def make_server(
    apply: Apply,
    port: int = 8502,
    host: str = "127.0.0.1",
    secret: str | None = None,
    *,
    read_timeout: float = READ_TIMEOUT_S,
    deadline_s: float = REQUEST_DEADLINE_S,
    max_connections: int = MAX_CONNECTIONS,
) -> ThreadingHTTPServer:
    """Create (not start) the endpoint; every POST body is parsed and handed to `apply`.

    Args:
        apply: Stores an event and returns the incident id it touched.
        port: Port to listen on (0 picks a free one).
        host: Address to bind; loopback by default, put a reverse proxy in front to expose it.
        secret: When set, requests must carry a PagerDuty signature made with it or end their
            path with it (see `authentic`); others get 401.
        read_timeout: Seconds a client may stay silent during one read.
        deadline_s: Seconds a client has for its whole request.
        max_connections: Connections served at once; more are closed unanswered.
    """
    handler = _handler(apply, secret, read_timeout, deadline_s)
    return ListenerServer((host, port), handler, max_connections)
