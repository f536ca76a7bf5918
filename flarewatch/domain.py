"""Flarewatch's shared vocabulary: post records, labels and statuses, field limits, time parsing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
INCIDENT_STATUSES = ("open", "resolved", "closed")
# An incident is judged on its posts from a day before it opened to a day after it was resolved.
INCIDENT_LOOKBACK = timedelta(hours=24)
INCIDENT_AFTERMATH = timedelta(hours=24)
OUTREACH_STATUSES = ("new", "contacted", "followed_up", "handed_off", "resolved", "ignored")
# What an answer to an unhappy author is: the first reply, or the "it's fixed" follow-up.
REPLY_KINDS = ("reply", "followup")
# Where each reply stands; `sending` is claimed before the platform call, so a crash never resends.
REPLY_STATES = ("sending", "sent", "failed")
# How an answered author sounds afterwards (analysis.recovery).
RECOVERY_STATES = ("recovered", "still_unhappy", "silent")
LABELS = ("negative", "neutral", "positive")
# Stored instead of a sentiment when the post's language is one the model is not trusted on.
OTHER_LANGUAGE = "other_language"
SPIKE_STATUSES = ("open", "dismissed", "promoted")
# A security incident's alerts go to the security destinations (FLAREWATCH_SECURITY_*) first.
INCIDENT_KINDS = ("service", "security")
# Longest post-mortem text field; follow-up actions and timeline entries are shorter.
MAX_POSTMORTEM_CHARS = 20_000
MAX_ENTRY_CHARS = 2_000
# What an outbound item is: a public incident update, an answer to a customer, or a follow-up.
OUTBOUND_KINDS = ("update", "reply", "followup")
# draft -> approved -> sending -> sent | failed; an unknown outcome stays "sending" until checked.
OUTBOUND_STATUSES = ("draft", "approved", "sending", "sent", "failed")
DESTINATIONS = ("x", "mastodon", "bluesky", "statuspage")

TIME_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%a %b %d %H:%M:%S %z %Y")


class NotFoundError(LookupError):
    """A row the caller named does not exist."""


@dataclass(frozen=True)
class IncidentEvent:
    """One open or resolve event from an outside tool."""

    source: str
    external_id: str
    action: str  # "open", "resolve" or "update"
    title: str
    at: datetime
    severity: str | None = None


@dataclass(frozen=True)
class IncidentRecord:
    """An incident as the layers above storage see it."""

    id: int
    title: str
    brand: str | None
    brand_terms: list[str] | None
    severity: str
    status: str
    opened_at: datetime
    resolved_at: datetime | None
    kind: str = "service"
    commander: str | None = None
    comms_lead: str | None = None
    archived_at: datetime | None = None


@dataclass(frozen=True)
class FollowUp:
    """An action that keeps an incident from happening again: what, who owns it, by when."""

    id: int
    action: str
    owner: str | None
    due: datetime | None
    done: bool


@dataclass(frozen=True)
class TimelineEntry:
    """One moment of an incident: from Flarewatch's own events, or written by a person."""

    at: datetime
    event: str
    source: str  # "flarewatch" or "manual"
    entry_id: int | None = None


@dataclass(frozen=True)
class PostMortem:
    """A blameless post-mortem: what happened and why, in terms of systems, never of people.

    Person fields exist only where a person is needed: owners of follow-up actions and the
    incident's roles (on the incident). Root cause and fix have none by design.
    """

    incident_id: int
    summary: str = ""
    impact: str = ""
    root_cause: str = ""
    fix: str = ""
    updated_at: datetime | None = None
    follow_ups: list[FollowUp] = field(default_factory=list)
    manual_entries: list[TimelineEntry] = field(default_factory=list)


POSTMORTEM_FIELDS = ("summary", "impact", "root_cause", "fix")


def check_text(name: str, value: str, limit: int) -> str:
    """Return `value` stripped, or raise ValueError naming the field when it is too long."""
    text = value.strip()
    if len(text) > limit:
        raise ValueError(f"{name} is {len(text)} characters, at most {limit} allowed")
    return text


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    """Raise ValueError naming `name` when `value` is not one of `choices`."""
    if value not in choices:
        raise ValueError(f"{name} {value!r}: expected one of {', '.join(choices)}")


# Longest value each short text field may hold (the storage schema's column sizes).
MAX_LENGTHS = {
    "platform": 32,
    "external_id": 128,
    "handle": 256,
    "display_name": 512,
    "brand": 128,
    "url": 1024,
    "language": 16,
    "reply_to": 128,
    "quote_of": 128,
}


# Counts are 32-bit INTEGER columns (PostgreSQL's int4).
MAX_COUNT = 2**31 - 1
COUNT_FIELDS = ("like_count", "repost_count", "reply_count", "quote_count")


def check_counts(record: Any, names: tuple[str, ...]) -> None:
    """Raise ValueError naming the first count of `record` outside 0..MAX_COUNT."""
    for name in names:
        value = getattr(record, name)
        if value is not None and not 0 <= value <= MAX_COUNT:
            raise ValueError(f"{name} {value} is out of range (0 to {MAX_COUNT})")


def check_lengths(record: Any, names: tuple[str, ...]) -> None:
    """Raise ValueError naming the first field of `record` longer than its limit."""
    for name in names:
        value = getattr(record, name)
        if isinstance(value, str) and len(value) > MAX_LENGTHS[name]:
            raise ValueError(
                f"{name} is {len(value)} characters, at most {MAX_LENGTHS[name]} allowed"
            )


@dataclass(frozen=True)
class RawAuthor:
    """Public profile data of a post's author, as the platform reports it."""

    platform: str
    external_id: str
    handle: str | None = None
    display_name: str | None = None
    followers: int | None = None
    verified: bool = False

    def __post_init__(self) -> None:
        check_lengths(self, ("platform", "external_id", "handle", "display_name"))
        check_counts(self, ("followers",))


@dataclass(frozen=True)
class RawPost:
    """One post normalised across platforms; `created_at` is always aware UTC."""

    platform: str
    external_id: str
    text: str
    created_at: datetime
    author: RawAuthor | None = None
    brand: str | None = None
    url: str | None = None
    language: str | None = None
    like_count: int = 0
    repost_count: int = 0
    reply_count: int = 0
    quote_count: int = 0
    reply_to: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    # The quoted post's key on the same platform (an X quote); its text, when known, is in `raw`.
    quote_of: str | None = None
    # Taken down by moderators, the platform or the author; `text` keeps only what is left.
    removed: bool = False
    # Posted by one of the brand's own accounts: shown as our voice, never counted as sentiment.
    is_own: bool = False

    def __post_init__(self) -> None:
        check_lengths(
            self,
            ("platform", "external_id", "brand", "url", "language", "reply_to", "quote_of"),
        )
        check_counts(self, COUNT_FIELDS)
        if self.created_at.tzinfo is None:
            raise ValueError(
                f"{self.platform}:{self.external_id}: created_at must be timezone-aware"
            )
        if self.created_at.utcoffset() != UTC.utcoffset(None):
            object.__setattr__(self, "created_at", self.created_at.astimezone(UTC))


def parse_time(value: Any) -> datetime:
    """Parse ISO 8601, Twitter-style or epoch-second timestamps; naive times are taken as UTC."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"timestamp {value!r} is out of range") from None
    text = str(value).strip()
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).astimezone(UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"unreadable timestamp {text!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# Five negative posts already mean "keeps complaining"; more adds little to the priority.
REPETITION_SATURATES = 5
# Reach is full at a million followers, engagement at a hundred interactions.
REACH_SATURATES = 1_000_000
ENGAGEMENT_SATURATES = 100


@dataclass(frozen=True)
class PriorityWeights:
    """How much each signal weighs in an unhappy author's 0-100 outreach priority; they sum to 1."""

    negativity: float = 0.35
    repetition: float = 0.25
    reach: float = 0.20
    engagement: float = 0.10
    recency: float = 0.10
    recency_half_life_hours: float = 6.0


@dataclass(frozen=True)
class OutreachFilter:
    """Which of an incident's unhappy authors a list shows; the defaults show every one."""

    statuses: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    min_priority: float = 0.0
    handle: str = ""
