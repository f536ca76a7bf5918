"""Publish to Statuspage through its REST API (httpx): create an incident, then update it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from flarewatch.actions.base import Outbound, Published, PublishError, same_text
from flarewatch.config import require_secret

API = "https://api.statuspage.io/v1"
KEY_VAR = "STATUSPAGE_API_KEY"
# Another base URL (a proxy, or a local stand-in in tests); the documented API by default.
URL_VAR = "STATUSPAGE_API_URL"
# What a Statuspage incident can say about itself, in its own words.
INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")


def make_client(
    env: Mapping[str, str], transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """An httpx client that signs every request with STATUSPAGE_API_KEY."""
    key = require_secret(KEY_VAR, dict(env))
    return httpx.Client(
        base_url=env.get(URL_VAR) or API,
        headers={"Authorization": f"OAuth {key}"},
        timeout=30.0,
        transport=transport,
    )


def _error(response: httpx.Response) -> PublishError:
    try:
        body = response.json()
        detail = str(body.get("error") or body.get("message") or body)
    except ValueError:
        detail = response.text[:200] or str(response.status_code)
    if response.status_code == 401:
        return PublishError("statuspage", "unauthorized", f"{detail}; check {KEY_VAR}")
    if response.status_code in (420, 429):
        reset = response.headers.get("retry-after")
        return PublishError("statuspage", "rate_limited", detail, retry_after=_float(reset))
    if response.status_code == 403:
        return PublishError("statuspage", "forbidden", detail)
    return PublishError("statuspage", "rejected", f"{response.status_code}: {detail}")


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


class StatuspagePublisher:
    """Creates or updates incidents on one page; `account` is the page id."""

    destination = "statuspage"

    def __init__(self, client: httpx.Client, page_id: str):
        self.client = client
        self.account = page_id

    def publish(self, item: Outbound) -> Published:
        """Create an incident (no `reply_to`) or update the one `reply_to` names."""
        status = str(item.options.get("status") or "investigating")
        if status not in INCIDENT_STATUSES:
            raise PublishError(
                "statuspage", "rejected", f"status {status!r} is not one of {INCIDENT_STATUSES}"
            )
        fields: dict[str, Any] = {"status": status, "body": item.text}
        if item.reply_to:
            path, method = f"/pages/{self.account}/incidents/{item.reply_to}", "PATCH"
        else:
            name = str(item.options.get("name") or item.text.splitlines()[0][:100])
            fields |= {"name": name, "deliver_notifications": True}
            path, method = f"/pages/{self.account}/incidents", "POST"
        incident = self._call(method, path, json={"incident": fields})
        return Published((str(incident["id"]),), incident.get("shortlink"))

    def find_sent(self, item: Outbound) -> Published | None:
        """The incident if the update's body is already on it (or a new incident of that name)."""
        if item.reply_to:
            incident = self._call("GET", f"/pages/{self.account}/incidents/{item.reply_to}")
            candidates = [incident]
        else:
            candidates = self._call("GET", f"/pages/{self.account}/incidents/unresolved")
        for incident in candidates:
            bodies = [u.get("body") or "" for u in incident.get("incident_updates") or []]
            if any(same_text(b, item.text) for b in bodies):
                return Published((str(incident["id"]),), incident.get("shortlink"))
        return None

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise PublishError(
                "statuspage", "timeout", type(exc).__name__, outcome_unknown=True
            ) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response.json()
