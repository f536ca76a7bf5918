"""A small local HTTP endpoint that accepts Statuspage and PagerDuty webhook JSON."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flarewatch.webhooks.events import IncidentEvent, UnknownPayloadError, parse_event

MAX_BODY = 1_000_000
Apply = Callable[[IncidentEvent], int]


def pagerduty_signature(secret: str, body: bytes) -> str:
    """The `X-PagerDuty-Signature` value PagerDuty (webhooks v3) sends for `body`."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def authentic(secret: str | None, path: str, headers: Any, body: bytes) -> bool:
    """Whether a request proves it knows the secret (always true without one).

    PagerDuty signs each body (`X-PagerDuty-Signature`, one or more comma-separated `v1=`
    values); Statuspage cannot sign, so its webhook URL carries the secret as the last path
    segment (`http://host:8502/webhooks/SECRET`).
    """
    if not secret:
        return True
    expected = pagerduty_signature(secret, body)
    signatures = (headers.get("X-PagerDuty-Signature") or "").split(",")
    if any(hmac.compare_digest(expected, s.strip()) for s in signatures):
        return True
    token = path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return hmac.compare_digest(token.encode(), secret.encode())


def _handler(apply: Apply, secret: str | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._reply(413, {"error": "body too large"})
            body = self.rfile.read(length)
            if not authentic(secret, self.path, self.headers, body):
                return self._reply(401, {"error": "signature or token missing or wrong"})
            try:
                event = parse_event(json.loads(body or b"null"))
            except (ValueError, KeyError, TypeError) as exc:
                message = str(exc) if isinstance(exc, UnknownPayloadError) else "invalid payload"
                return self._reply(400, {"error": message})
            incident_id = apply(event)
            self._reply(200, {"incident_id": incident_id, "action": event.action})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return  # request lines could carry tokens in query strings; stay quiet

    return Handler


def make_server(
    apply: Apply, port: int = 8502, host: str = "127.0.0.1", secret: str | None = None
) -> ThreadingHTTPServer:
    """Create (not start) the endpoint; every POST body is parsed and handed to `apply`.

    Args:
        apply: Stores an event and returns the incident id it touched.
        port: Port to listen on (0 picks a free one).
        host: Address to bind; loopback by default, put a reverse proxy in front to expose it.
        secret: When set, requests must carry a PagerDuty signature made with it or end their
            path with it (see `authentic`); others get 401.
    """
    return ThreadingHTTPServer((host, port), _handler(apply, secret))
