"""A small local HTTP endpoint that accepts Statuspage and PagerDuty webhook JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flarewatch.incidents.events import IncidentEvent, UnknownPayloadError, parse_event

MAX_BODY = 1_000_000
Apply = Callable[[IncidentEvent], int]


def _handler(apply: Apply) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._reply(413, {"error": "body too large"})
            try:
                event = parse_event(json.loads(self.rfile.read(length) or b"null"))
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


def make_server(apply: Apply, port: int = 8502, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Create (not start) the endpoint; every POST body is parsed and handed to `apply`.

    Args:
        apply: Stores an event and returns the incident id it touched.
        port: Port to listen on (0 picks a free one).
        host: Address to bind; loopback by default, put a reverse proxy in front to expose it.
    """
    return ThreadingHTTPServer((host, port), _handler(apply))
