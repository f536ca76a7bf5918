"""Tell a silent source from calm: learn each feed's usual gap between posts, flag far longer ones."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

HOURS_PER_WEEK = 7 * 24
# One feed: (source, brand). Posts do not record which of a brand's queries found them, so a
# brand's queries on one source are pooled.
Key = tuple[str, str | None]


@dataclass(frozen=True)
class SilenceSettings:
    """How much longer than usual a gap must be before a feed is called silent.

    Args:
        factor: A gap is silent once it exceeds `factor` times the usual p95 gap.
        min_silence: Never silent sooner than this (collection runs and indexing lag).
        min_samples: Gaps a feed needs before any verdict; until then it is "learning".
        min_hour_samples: Gaps an hour of the week needs to use its own figures, else the
            feed's overall ones.
        lookback: How much history to learn from.
    """

    factor: float = 3.0
    min_silence: timedelta = timedelta(minutes=30)
    min_samples: int = 30
    min_hour_samples: int = 8
    lookback: timedelta = timedelta(days=28)


@dataclass(frozen=True)
class Gap:
    """Median and 95th percentile of waits between posts, in seconds."""

    median: float
    p95: float
    samples: int


@dataclass(frozen=True)
class UsualGaps:
    """A feed's usual waits: per hour of the week (Monday 00:00 UTC is hour 0) and overall."""

    by_hour: Mapping[int, Gap]
    overall: Gap | None

    def at(self, hour: int, settings: SilenceSettings) -> Gap | None:
        """The figures for a wait starting in `hour` of the week."""
        own = self.by_hour.get(hour)
        return own if own and own.samples >= settings.min_hour_samples else self.overall


@dataclass(frozen=True)
class SilentStretch:
    """No posts from `start` (the last post) to `end` (the next one; None while it lasts).

    `silent_since` is when the wait became far longer than usual: from then on a gap on a
    chart is a silent source, not calm.
    """

    source: str
    brand: str | None
    start: datetime
    silent_since: datetime
    end: datetime | None
    usual_p95_seconds: float


@dataclass(frozen=True)
class FeedSilence:
    """One feed's verdict: "ok", "silent" or "learning", and its silent stretches, oldest first."""

    source: str
    brand: str | None
    state: str
    checked_until: datetime | None
    usual: Gap | None
    stretches: list[SilentStretch] = field(default_factory=list)


def hour_of_week(moment: datetime) -> int:
    """Hour of the week in UTC, Monday 00:00 being 0."""
    return moment.weekday() * 24 + moment.hour


def _gap(waits: Sequence[float]) -> Gap:
    ordered = sorted(waits)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Gap(statistics.median(ordered), p95, len(ordered))


def learn_gaps(arrivals: Sequence[datetime]) -> UsualGaps:
    """Usual waits between consecutive posts, each wait counted in the hour it started."""
    times = sorted(arrivals)
    waits: dict[int, list[float]] = defaultdict(list)
    for before, after in itertools.pairwise(times):
        waits[hour_of_week(before)].append((after - before).total_seconds())
    every = [w for hour in waits.values() for w in hour]
    return UsualGaps({hour: _gap(w) for hour, w in waits.items()}, _gap(every) if every else None)


def _limit(usual: UsualGaps, hour: int, settings: SilenceSettings) -> timedelta | None:
    gap = usual.at(hour, settings)
    if gap is None:
        return None
    return max(settings.min_silence, timedelta(seconds=settings.factor * gap.p95))


def silent_from(
    start: datetime, end: datetime, usual: UsualGaps, settings: SilenceSettings
) -> tuple[datetime, float] | None:
    """When a wait from `start` became silent before `end`, with the usual p95 that it broke.

    Every hour the wait covers is judged by its own usual gap, counted from when that hour
    began: a quiet night followed by a busy morning is silent soon after the morning starts.
    """
    best: tuple[datetime, float] | None = None
    hour_start = start.replace(minute=0, second=0, microsecond=0)
    while hour_start < end and (best is None or hour_start < best[0]):
        base = max(start, hour_start)
        limit = _limit(usual, hour_of_week(hour_start), settings)
        if limit is not None and base + limit < end and (best is None or base + limit < best[0]):
            gap = usual.at(hour_of_week(hour_start), settings)
            best = (base + limit, gap.p95 if gap else 0.0)
        hour_start += timedelta(hours=1)
    return best


def find_stretches(
    key: Key,
    arrivals: Sequence[datetime],
    checked_until: datetime | None,
    settings: SilenceSettings,
    usual: UsualGaps | None = None,
) -> list[SilentStretch]:
    """Every silent stretch in `arrivals`, the last one open when nothing came up to
    `checked_until` (the source's last successful run)."""
    times = sorted(arrivals)
    usual = usual or learn_gaps(times)
    if usual.overall is None:
        return []
    waits = list(zip(times, [*times[1:], None], strict=True))
    stretches = []
    for start, end in waits:
        until = end or checked_until
        if until is None or until <= start:
            continue
        found = silent_from(start, until, usual, settings)
        if found is not None:
            stretches.append(SilentStretch(key[0], key[1], start, found[0], end, found[1]))
    return stretches


def feed_silence(
    key: Key,
    arrivals: Sequence[datetime],
    checked_until: datetime | None,
    settings: SilenceSettings | None = None,
) -> FeedSilence:
    """One feed's state: "learning" without enough history, "silent" while a stretch is open."""
    settings = settings or SilenceSettings()
    usual = learn_gaps(arrivals)
    overall = usual.overall
    if overall is None or overall.samples < settings.min_samples:
        return FeedSilence(key[0], key[1], "learning", checked_until, overall)
    stretches = find_stretches(key, arrivals, checked_until, settings, usual)
    silent = bool(stretches) and stretches[-1].end is None
    return FeedSilence(
        key[0], key[1], "silent" if silent else "ok", checked_until, overall, stretches
    )


def silence_report(
    arrivals: Mapping[Key, Sequence[datetime]],
    last_success: Mapping[str, datetime | None],
    settings: SilenceSettings | None = None,
) -> list[FeedSilence]:
    """Every feed's verdict, judged only up to its source's last successful run.

    Args:
        arrivals: Post times per (source, brand), e.g. `storage.silence.arrival_times`.
        last_success: Each source's last successful run (`storage.silence.last_successes`);
            silence after it is a failing source, which health reports already.
    """
    return [
        feed_silence(key, times, last_success.get(key[0]), settings)
        for key, times in sorted(arrivals.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]


@dataclass(frozen=True)
class SilenceEvent:
    """An alert to send: a feed went "silent", or "recovered" when posts came back."""

    kind: str
    stretch: SilentStretch


def silence_alerts(
    report: Iterable[FeedSilence], alerted: Mapping[Key, SilentStretch]
) -> tuple[list[SilenceEvent], dict[Key, SilentStretch]]:
    """Alerts due now, once per stretch, and the new `alerted` state to keep for the next call.

    `alerted` maps each feed to the open stretch already alerted (start with `{}`).
    """
    events, state = [], dict(alerted)
    for feed in report:
        key = (feed.source, feed.brand)
        current = feed.stretches[-1] if feed.state == "silent" else None
        previous = state.get(key)
        if previous is not None and (current is None or current.start != previous.start):
            closed = next((s for s in feed.stretches if s.start == previous.start), previous)
            events.append(SilenceEvent("recovered", closed))
            del state[key]
        if current is not None and key not in state:
            events.append(SilenceEvent("silent", current))
            state[key] = current
    return events, state
