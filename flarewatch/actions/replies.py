"""Public replies to unhappy authors: templates, one sender per platform, rate limits."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from string import Formatter
from typing import Any, Protocol

TEMPLATE_FIELDS = ("handle", "incident_title", "status_url", "next_update")
DEFAULT_TEMPLATES = {
    "reply": (
        "@{handle} Sorry about this: we know about {incident_title} and are working on it. "
        "Live status: {status_url} (next update {next_update})."
    ),
    "followup": (
        "@{handle} {incident_title} is fixed. What happened and what we changed: {status_url} "
        "Thank you for your patience."
    ),
}
# Longest reply each platform accepts (Mastodon's is the default of most instances).
MAX_REPLY_LENGTH = {"x": 280, "mastodon": 500, "bluesky": 300, "reddit": 10_000}
# Seconds between two replies on one platform, inside each platform's posting limits:
# X 100 posts per 15 min per user, Mastodon 300 statuses per 3 h, Bluesky 1,666 records an hour.
PLATFORM_SPACING_S = {"x": 9.0, "mastodon": 36.0, "bluesky": 3.0, "reddit": 10.0}
MASTODON_VISIBILITIES = ("public", "unlisted", "private", "direct")


class TemplateError(ValueError):
    """A reply template that cannot be filled in."""


class ReplyError(Exception):
    """A platform refused a reply; `stop` when no further reply there can succeed in this batch."""

    def __init__(self, message: str, *, stop: bool = False):
        super().__init__(message)
        self.stop = stop


@dataclass(frozen=True)
class Sent:
    """Our reply as the platform stored it."""

    remote_id: str
    url: str | None


@dataclass(frozen=True)
class ReplyDraft:
    """One reply ready to preview and send; `error` says why it cannot be sent."""

    author_id: int
    platform: str
    handle: str | None
    kind: str
    text: str
    replied_to: str | None
    replied_url: str | None = None
    replied_at: datetime | None = None
    error: str | None = None


class Replier(Protocol):
    """Posts a public reply to one post on one platform."""

    platform: str

    def reply(self, parent: str, text: str) -> Sent:
        """Reply to the post with platform id `parent`; raise ReplyError when refused."""
        ...


def check_template(template: str) -> None:
    """Raise TemplateError for a placeholder other than TEMPLATE_FIELDS (before anything is sent)."""
    try:
        parts = list(Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"reply template: {exc}") from None
    allowed = ", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS)
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in TEMPLATE_FIELDS or spec or conversion:
            raise TemplateError(f"reply template: unknown placeholder {{{name}}}; use {allowed}")
    if not template.strip():
        raise TemplateError("reply template is empty")


def render_reply(template: str, values: Mapping[str, str | None]) -> str:
    """Fill a checked template; a missing value becomes an empty string."""
    check_template(template)
    return template.format_map({name: values.get(name) or "" for name in TEMPLATE_FIELDS})


def draft_error(platform: str, text: str) -> str | None:
    """Why `text` cannot go out on `platform`, or None."""
    limit = MAX_REPLY_LENGTH.get(platform)
    if limit is None:
        return f"replies on {platform} are not supported"
    if len(text) > limit:
        return f"reply is {len(text)} characters, {platform} allows {limit}"
    return None


def parse_spacing(text: str | None) -> dict[str, float]:
    """Per-platform spacing from `"mastodon=5,x=20"` over the defaults; ValueError names a bad part."""
    spacing = dict(PLATFORM_SPACING_S)
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        platform, _, seconds = part.partition("=")
        try:
            value = float(seconds)
        except ValueError:
            raise ValueError(f"reply_spacing {part!r}: expected platform=seconds") from None
        if platform.strip() not in MAX_REPLY_LENGTH or value < 0:
            raise ValueError(f"reply_spacing {part!r}: expected platform=seconds")
        spacing[platform.strip()] = value
    return spacing


class RateLimiter:
    """Spaces replies per platform and caps a batch at `per_minute` replies over all platforms."""

    def __init__(
        self,
        per_minute: int = 20,
        spacing: Mapping[str, float] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if per_minute < 1:
            raise ValueError(f"replies per minute must be at least 1, not {per_minute}")
        self.per_minute = per_minute
        self.spacing = dict(PLATFORM_SPACING_S if spacing is None else spacing)
        self.clock, self.sleep = clock, sleep
        self.recent: deque[float] = deque()
        self.last: dict[str, float] = {}

    def wait(self, platform: str) -> None:
        """Sleep until one more reply on `platform` keeps within both limits, then count it."""
        now = self.clock()
        while self.recent and now - self.recent[0] >= 60:
            self.recent.popleft()
        if len(self.recent) >= self.per_minute:
            self.sleep(60 - (now - self.recent[0]))
            now = self.clock()
            self.recent.popleft()
        if platform in self.last:
            gap = self.spacing.get(platform, 0.0) - (now - self.last[platform])
            if gap > 0:
                self.sleep(gap)
                now = self.clock()
        self.recent.append(now)
        self.last[platform] = now


def idempotency_key(parent: str, text: str) -> str:
    """The same reply to the same post gets the same key (Mastodon drops the second)."""
    return hashlib.sha256(f"{parent}\n{text}".encode()).hexdigest()[:32]


def http_status(exc: Exception) -> int | None:
    """The HTTP status a client library's exception carries, if any."""
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def refusal(platform: str, status: int | None, detail: str) -> ReplyError:
    """A one-line ReplyError for a refused reply; 401 and 429 stop the platform for the batch."""
    what = {
        401: "credentials rejected (401)",
        403: "forbidden (403)",
        404: "post not found (404): deleted?",
        429: "rate limited (429): try again later",
    }.get(status or 0, f"error {status}" if status else "error")
    message = f"{platform}: {what}" + (f": {detail}" if detail else "")
    return ReplyError(message, stop=status in (401, 429))


def as_dict(value: Any) -> dict[str, Any]:
    """A client library's response object as a plain dict."""
    return dict(value) if isinstance(value, Mapping) else dict(vars(value))
