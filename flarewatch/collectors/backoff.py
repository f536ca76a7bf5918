"""Source errors, rate-limit header parsing and jittered retries with an injectable clock."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

T = TypeVar("T")
RESET_HEADERS = ("retry-after", "x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset")
EPOCH_THRESHOLD = 1_000_000_000  # larger reset values are epoch seconds, smaller ones deltas


class SourceError(Exception):
    """A source failed in a way the runner records in the source's health."""


class TransientError(SourceError):
    """A failure worth retrying: 5xx, timeout, connection reset, malformed JSON."""


class RateLimited(TransientError):
    """The API said to slow down; the wait comes from `retry_after` or the response headers."""

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = dict(headers or {})

    def wait(self, now: float) -> float | None:
        """Seconds to wait from `now`, if the API said."""
        if self.retry_after is not None:
            return self.retry_after
        return delay_from_headers(self.headers, now)


class PermanentError(SourceError):
    """A failure retrying will not fix: bad credentials, forbidden, invalid query."""


def _parse_reset(value: str, now: float) -> float | None:
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        return number - now if number > EPOCH_THRESHOLD else number
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() - now


def delay_from_headers(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until a rate limit resets, from Retry-After or a platform's reset header.

    Understands Retry-After (seconds or HTTP date), X's `x-rate-limit-reset` (epoch),
    Bluesky's `ratelimit-reset` (epoch), Reddit's `x-ratelimit-reset` (seconds left) and
    Mastodon's `X-RateLimit-Reset` (ISO 8601 time).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in RESET_HEADERS:
        if name in lowered:
            delay = _parse_reset(lowered[name], now)
            if delay is not None:
                return max(0.0, delay)
    return None


@dataclass(frozen=True)
class Backoff:
    """Retry policy: exponential backoff with full jitter, capped.

    Args:
        attempts: Tries per request, the first included.
        base: Seconds of the first backoff window.
        cap: Largest backoff window in seconds.
        max_sleep: Longest rate-limit wait slept in place; longer ones are raised to the
            runner, which reschedules the source instead of blocking the others.
    """

    attempts: int = 5
    base: float = 1.0
    cap: float = 120.0
    max_sleep: float = 120.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))


@dataclass
class Retrier:
    """Run one request with retries; sleeping, the clock and randomness are injectable."""

    policy: Backoff = field(default_factory=Backoff)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)
    slept: list[float] = field(default_factory=list)

    def __call__(
        self, request: Callable[[], T], translate: Callable[[Exception], SourceError | None]
    ) -> T:
        """Call `request`, mapping client exceptions through `translate` and retrying transient ones."""
        for attempt in range(self.policy.attempts):
            try:
                return _translated(request, translate)
            except TransientError as exc:
                wait = self._wait(exc, attempt)
                if attempt + 1 >= self.policy.attempts or wait is None:
                    raise
            self.slept.append(wait)
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, exc: TransientError, attempt: int) -> float | None:
        told = exc.wait(self.clock()) if isinstance(exc, RateLimited) else None
        if told is None:
            return self.policy.delay(attempt, self.rng)
        assert isinstance(exc, RateLimited)
        exc.retry_after = told
        if told > self.policy.max_sleep:
            return None
        # A little jitter keeps several workers from waking up in the same instant.
        return told + self.rng.uniform(0, 1)


def _translated(
    request: Callable[[], T], translate: Callable[[Exception], SourceError | None]
) -> T:
    try:
        return request()
    except SourceError:
        raise
    except Exception as exc:
        mapped = translate(exc)
        if mapped is None:
            raise
        raise mapped from exc


def http_error(status: int, headers: Mapping[str, str], what: str) -> SourceError:
    """Map an HTTP status to the matching SourceError."""
    if status == 429:
        return RateLimited(f"{what}: rate limited (429)", headers=headers)
    if status >= 500 or status in (408, 409, 413):
        return TransientError(f"{what}: server error ({status})")
    return PermanentError(f"{what}: request rejected ({status})")
