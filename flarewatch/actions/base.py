"""What goes out and who sends it: the Outbound record, the Publisher protocol and its errors."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Outbound:
    """One message to send: the first post's text, thread parts after it, where and as whom.

    `reply_to` is the platform's id of the post this answers (a reply or the incident on
    Statuspage being updated). `idempotency_key` names the message across retries.
    `options` holds destination extras (Statuspage: `status`, `name`).
    """

    destination: str
    text: str
    idempotency_key: str
    account: str | None = None
    reply_to: str | None = None
    parts: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def texts(self) -> tuple[str, ...]:
        """Every post of the thread, first to last."""
        return (self.text, *self.parts)


@dataclass(frozen=True)
class Published:
    """What the platform answered: the ids of the posts made (thread order) and a link."""

    remote_ids: tuple[str, ...]
    url: str | None = None

    @property
    def remote_id(self) -> str | None:
        """The first post's id (the one a thread hangs from)."""
        return self.remote_ids[0] if self.remote_ids else None


# Why a send failed: the caller shows it, and only "timeout" may be retried without a check.
REASONS = ("unauthorized", "forbidden", "rate_limited", "duplicate", "rejected", "timeout")


class PublishError(Exception):
    """A destination refused a message or could not be reached.

    `reason` is one of REASONS; `retry_after` (seconds) comes with "rate_limited";
    `outcome_unknown` is True when the message may have gone out all the same (a timeout):
    check with `Publisher.find_sent` before sending it again.
    """

    def __init__(
        self,
        destination: str,
        reason: str,
        detail: str,
        *,
        retry_after: float | None = None,
        outcome_unknown: bool = False,
        published: Published | None = None,
    ):
        super().__init__(f"{destination}: {reason}: {detail}")
        self.destination = destination
        self.reason = reason
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown
        # Thread parts that did go out before the failure.
        self.published = published


class Publisher(Protocol):
    """Sends messages to one destination as one account (a handle, user@instance or page id)."""

    destination: str
    account: str

    def publish(self, item: Outbound) -> Published:
        """Send `item` (and its thread parts, each replying to the one before)."""
        ...

    def find_sent(self, item: Outbound) -> Published | None:
        """The message if it already went out (after a timeout), else None: never send twice."""
        ...


def idempotency_key(*parts: object) -> str:
    """A stable key for one message: the same inputs give the same key, across processes."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:40]


_URL = re.compile(r"https?://\S+")


def same_text(a: str, b: str) -> bool:
    """Whether a platform's copy of a post is the text we sent.

    Platforms trim and re-space text and rewrite links (X shortens every URL to t.co).
    """

    def normal(text: str) -> str:
        return " ".join(_URL.sub("<url>", text).split())

    return normal(a) == normal(b)
