"""Online spike detection: each completed bucket is judged once, against the history before it."""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import nbinom

from flarewatch.analysis.spikes import SEVERITY_GRADES, severity_score

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class OnlineParams:
    """Tuning of the online detector; times are in minutes or hours so any bucket width works.

    Args:
        min_history_hours: Real history (since data start) needed before anything can alert.
        max_silence_hours: A brand silent this long was not being collected: its stream restarts.
        seasonal_days: Previous days whose same time of day forms the expectation.
        spread_minutes: How far either side of the same time each previous day's sample reaches.
        level_hours: Recent hours whose observed / expected ratio scales the expectation.
        level_clip: Bounds of that factor: quieter days lower the expectation, but a busier
            day never raises it, as the start of a storm would otherwise hide the storm.
        min_expected_per_hour: Floor of the expectation: a quiet night is never "0 expected".
        dispersion: Negative-binomial shape of the burstiness of real posting.
        alpha: Tail probability under which a bucket is elevated.
        strong_alpha: Tail probability under which one bucket alone opens an alert.
        min_ratio: Observed / expected an elevated bucket must reach.
        strong_min_excess: Posts above expectation one bucket needs to open an alert alone.
        persistence: Elevated buckets in a run that open an alert.
        run_gap_minutes: Quiet time a run survives between elevated buckets: at narrow buckets
            a real surge's posts come unevenly and not every quarter hour is elevated. At any
            width one quiet bucket never breaks a run.
        cooldown_minutes: Quiet time after which an open alert closes.
        max_alert_hours: An alert open this long closes; a surge still going alerts again.
        window_minutes: Trailing window whose total is also judged (two buckets at least).
        min_excess_per_hour: Posts an hour above expectation anything elevated must add: a
            handful of posts on a quiet night is no incident, however unlikely.
        long_window_minutes: A longer trailing window, judged like the first, for sustained
            moderate rises (a storm's first hours) whose every hour is still plausible alone.
        day_cv: Day-to-day spread (coefficient of variation) of a time of day's volume: an
            expectation from only two or three previous days is that much less sure.
        burst_minutes: The window's busiest stretch this long (a thread, a retweet wave) never
            carries it alone: every bucket counts at most at the ratio of the busiest one left.
    """

    min_history_hours: float = 48.0
    max_silence_hours: float = 12.0
    seasonal_days: int = 7
    spread_minutes: int = 60
    level_hours: float = 24.0
    level_clip: tuple[float, float] = (0.67, 1.0)
    min_expected_per_hour: float = 2.0
    dispersion: float = 10.0
    alpha: float = 4e-3
    strong_alpha: float = 1e-6
    min_ratio: float = 1.5
    strong_min_excess: float = 15.0
    persistence: int = 2
    run_gap_minutes: int = 30
    cooldown_minutes: int = 120
    max_alert_hours: float = 24.0
    window_minutes: int = 60
    min_excess_per_hour: float = 7.0
    long_window_minutes: int = 180
    burst_minutes: int = 15
    day_cv: float = 0.2


# Fast confirmation of strong surges (`flarewatch run`): 1-minute buckets, each judged alone
# and with its trailing 5 minutes, so a rolling 5-minute window is stepped every minute. It
# alerts only on what adds at least a post a minute above expectation, three minutes running
# (or one extreme minute); weaker and slower surges are left to the standard buckets.
FAST_BUCKET_MINUTES = 1
# alpha 1e-5 (tuned on `benchmarks/spikes.py --fast --seed 0`): 1e-4 raised ~0.2 false
# alarms a week, while the strong one-minute path (its own alpha) keeps big surges fast.
# Bursts, run gaps and the long window are scaled down to minutes.
FAST_PARAMS = OnlineParams(
    window_minutes=5,
    long_window_minutes=5,
    burst_minutes=2,
    run_gap_minutes=3,
    persistence=3,
    alpha=1e-5,
    min_excess_per_hour=60.0,
    cooldown_minutes=30,
)


@dataclass(frozen=True)
class Verdict:
    """How one completed bucket was judged."""

    bucket: pd.Timestamp
    observed: int
    expected: float | None
    p_value: float | None
    elevated: bool
    strong: bool

    @property
    def learning(self) -> bool:
        """True while the baseline is still being learned (no expectation yet)."""
        return self.expected is None


@dataclass(frozen=True)
class DetectorState:
    """What the detector remembers between buckets for one brand and bucket width."""

    last_bucket: pd.Timestamp | None = None
    expected: float | None = None
    run: int = 0
    run_start: pd.Timestamp | None = None
    alert_start: pd.Timestamp | None = None
    alert_opened: pd.Timestamp | None = None
    quiet: int = 0
    excess: float = 0.0
    peak_ratio: float = 0.0
    severity: float = 0.0


@dataclass(frozen=True)
class AlertEvent:
    """A change in an alert: `open`, `escalate` (a higher grade) or `close`."""

    action: str
    started_at: pd.Timestamp
    bucket_start: pd.Timestamp
    alerted_at: pd.Timestamp
    observed: int
    expected: float
    severity: float


def per_day(step: pd.Timedelta) -> int:
    """Buckets in a day."""
    return max(1, round(DAY / step))


def _day_lags(step: pd.Timedelta, params: OnlineParams) -> list[list[int]]:
    """Per previous day, the offsets (in buckets) of the same time give or take the spread."""
    day, reach = per_day(step), round(pd.Timedelta(minutes=params.spread_minutes) / step)
    days = range(1, params.seasonal_days + 1)
    return [[k * day + j for j in range(-reach, reach + 1) if k * day + j > 0] for k in days]


def _shifted(values: np.ndarray, lag: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    if lag < len(values):
        out[lag:] = values[: len(values) - lag]
    return out


def _seasonal(
    values: np.ndarray, step: pd.Timedelta, params: OnlineParams
) -> tuple[np.ndarray, np.ndarray]:
    """Each position's median over previous days of that day's mean around the same time.

    The median keeps one odd day (a past incident, a collector gap) out of the expectation.

    Returns:
        (seasonal expectation, NaN where no day has a sample; the posts the samples hold,
        as an equivalent count that also carries the day-to-day spread of so few days).
    """
    means, total = [], np.zeros(len(values))
    for lags in _day_lags(step, params):
        day = np.stack([_shifted(values, lag) for lag in lags])
        found = (~np.isnan(day)).sum(axis=0)
        means.append(np.where(found > 0, np.nansum(day, axis=0) / np.maximum(found, 1), np.nan))
        total += np.nansum(day, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: no day yet
        stacked = np.stack(means)
        median = np.nanmedian(stacked, axis=0)
    days = np.maximum((~np.isnan(stacked)).sum(axis=0), 1)
    # A median of few days is unsure beyond its posts' noise (weekends, drifting interest):
    # its relative variance is about pi/2 * cv^2 / days; it enters the spread like posts do.
    unsure = 1.0 / (total + 1.0) + (np.pi / 2) * params.day_cv**2 / days
    return median, 1.0 / unsure - 1.0


def _trailing_sum(values: np.ndarray, width: int) -> np.ndarray:
    """Sum of the `width` positions before each position (the position itself excluded)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(len(values))
    return cumulative[ends] - cumulative[np.maximum(0, ends - width)]


def expectations(
    values: np.ndarray, step: pd.Timedelta, params: OnlineParams
) -> tuple[np.ndarray, np.ndarray]:
    """Expected count of every position from the positions before it only (NaN = missing).

    The expectation is the same time on previous days (`_seasonal`), lowered on a day quieter
    than usual (`level_clip`), and never below a floor.

    Returns:
        (expected, evidence): NaN expectations where too little real history exists; evidence is
        the number of posts each seasonal estimate rests on.
    """
    seasonal, evidence = _seasonal(values, step, params)
    span = round(history_span(step, params) / step)
    real = _trailing_sum((~np.isnan(values)).astype(float), span) * (step / HOUR)
    usable = ~np.isnan(values) & ~np.isnan(seasonal)
    recent = max(1, round(pd.Timedelta(hours=params.level_hours) / step))
    observed = _trailing_sum(np.where(usable, values, 0.0), recent)
    expected = _trailing_sum(np.where(usable, seasonal, 0.0), recent)
    prior = params.min_expected_per_hour * params.level_hours
    level = np.clip((observed + prior) / (expected + prior), *params.level_clip)
    floor = params.min_expected_per_hour * step / HOUR
    mean = np.maximum(seasonal * level, floor)
    learning = (real < params.min_history_hours) | np.isnan(seasonal)
    return np.where(learning, np.nan, mean), evidence


def tail_probability(observed: int, expected: float, evidence: float, dispersion: float) -> float:
    """P(X >= observed) for a negative binomial of mean `expected`.

    Its spread is natural burstiness (`dispersion`) plus the uncertainty of an expectation that
    rests on only `evidence` posts, so sparse history never makes a few posts look impossible.
    """
    if observed <= 0:
        return 1.0
    shape = 1.0 / (1.0 / dispersion + 1.0 / (evidence + 1.0))
    return float(nbinom.sf(observed - 1, shape, shape / (shape + expected)))


def judge_bucket(
    bucket: pd.Timestamp,
    observed: int,
    history: np.ndarray,
    step: pd.Timedelta,
    params: OnlineParams,
) -> Verdict:
    """Judge one completed bucket against the history before it (NaN where data was missing)."""
    values = np.append(history, float(observed))
    expected, evidence = expectations(values, step, params)
    at = (len(values) - 1, step)
    return _verdict(bucket, values, (expected, evidence), at, params)


def _verdict(
    bucket: pd.Timestamp,
    values: np.ndarray,
    expectation: tuple[np.ndarray, np.ndarray],
    at: tuple[int, pd.Timedelta],
    params: OnlineParams,
) -> Verdict:
    """Judge position `i` of `values`: the bucket alone, else with the trailing window."""
    expected, evidence = expectation
    i, step = at
    if math.isnan(values[i]) or math.isnan(expected[i]):
        return Verdict(bucket, int(np.nan_to_num(values[i])), None, None, False, False)
    observed, mean = int(values[i]), float(expected[i])
    p = tail_probability(observed, mean, float(evidence[i]), params.dispersion)
    hours = step / HOUR
    big = observed - mean >= params.min_excess_per_hour * hours
    elevated = p < params.alpha and observed >= params.min_ratio * mean and big
    strong = elevated and p < params.strong_alpha and observed - mean >= params.strong_min_excess
    for minutes in (params.window_minutes, params.long_window_minutes):
        if elevated or observed <= mean:
            break
        width = max(2, round(pd.Timedelta(minutes=minutes) / step))
        p_window = _window_tail(values, expected, float(evidence[i]), (i, step, width), params)
        elevated, p = p_window < params.alpha, min(p, p_window)
    return Verdict(bucket, observed, mean, p, elevated, strong)


def _window_tail(
    values: np.ndarray,
    expected: np.ndarray,
    evidence: float,
    at: tuple[int, pd.Timedelta, int],
    params: OnlineParams,
) -> float:
    """Tail probability of the `width` buckets up to `i`, or 1 when they did not rise enough.

    The window catches a sparse stream's surge, whose every single bucket is still plausible.
    """
    i, step, width = at
    lo = max(0, i - width + 1)
    seen, mean = values[lo : i + 1], expected[lo : i + 1]
    if np.isnan(seen).any() or np.isnan(mean).any():
        return 1.0
    # Each bucket counts at most at the ratio of the busiest bucket outside the busiest
    # `burst_minutes`, so one burst never carries the window: a surge lasts longer than a burst.
    burst = max(1, round(pd.Timedelta(minutes=params.burst_minutes) / step))
    ratios = np.sort(seen / mean)
    cap = float(ratios[-min(burst + 1, len(ratios))])
    if width * step > pd.Timedelta(minutes=params.window_minutes):
        # A long window judges a sustained rise: no bucket counts above the median ratio.
        cap = min(cap, float(np.median(ratios)))
    total, total_mean = int(np.minimum(seen, cap * mean).sum()), float(mean.sum())
    hours = len(seen) * step / HOUR
    if (
        total < params.min_ratio * total_mean
        or total - total_mean < params.min_excess_per_hour * hours
    ):
        return 1.0
    return tail_probability(total, total_mean, evidence, len(seen) * params.dispersion)


def _grade(severity: float) -> int:
    return next(i for i, (floor, _) in enumerate(SEVERITY_GRADES) if severity >= floor)


def _event(action: str, state: DetectorState, verdict: Verdict, step: pd.Timedelta) -> AlertEvent:
    return AlertEvent(
        action=action,
        started_at=state.alert_start or verdict.bucket,
        bucket_start=verdict.bucket,
        alerted_at=verdict.bucket + step,
        observed=verdict.observed,
        expected=round(verdict.expected or 0.0, 2),
        severity=state.severity,
    )


def _grow(state: DetectorState, verdict: Verdict) -> DetectorState:
    """Add an elevated bucket to the run and the open alert's size and severity."""
    expected = verdict.expected or 0.0
    excess = state.excess + max(0.0, verdict.observed - expected)
    ratio = max(state.peak_ratio, verdict.observed / max(expected, 1e-9))
    return replace(
        state,
        run=state.run + 1,
        run_start=state.run_start or verdict.bucket,
        quiet=0,
        excess=excess,
        peak_ratio=ratio,
        severity=severity_score(ratio, excess),
    )


def advance(
    state: DetectorState, verdict: Verdict, step: pd.Timedelta, params: OnlineParams
) -> tuple[DetectorState, list[AlertEvent]]:
    """The alert lifecycle: open, escalate when the grade rises, close after a quiet cooldown."""
    state = replace(state, last_bucket=verdict.bucket, expected=verdict.expected)
    if state.alert_start is None:
        return _advance_closed(state, verdict, step, params)
    too_long = verdict.bucket + step - state.alert_start >= pd.Timedelta(
        hours=params.max_alert_hours
    )
    if verdict.elevated and not too_long:
        grown = _grow(state, verdict)
        rose = _grade(grown.severity) < _grade(state.severity)
        return grown, [_event("escalate", grown, verdict, step)] if rose else []
    quiet = replace(state, run=0, run_start=None, quiet=state.quiet + 1)
    cooled = quiet.quiet * step >= pd.Timedelta(minutes=params.cooldown_minutes)
    if cooled or too_long:
        return DetectorState(last_bucket=verdict.bucket, expected=verdict.expected), [
            _event("close", state, verdict, step)
        ]
    return quiet, []


def _advance_closed(
    state: DetectorState, verdict: Verdict, step: pd.Timedelta, params: OnlineParams
) -> tuple[DetectorState, list[AlertEvent]]:
    if not verdict.elevated:
        waited = (state.quiet + 1) * step
        if state.run > 0 and waited <= max(pd.Timedelta(minutes=params.run_gap_minutes), step):
            return replace(state, quiet=state.quiet + 1), []
        return DetectorState(last_bucket=state.last_bucket, expected=state.expected), []
    grown = _grow(state, verdict)
    # An alert means at least an hour's worth of the minimum excess in all: at narrow buckets,
    # two elevated quarters of a handful of posts each are a burst, not yet an incident.
    enough = grown.excess >= params.min_excess_per_hour
    if verdict.strong or (grown.run >= params.persistence and enough):
        opened = replace(grown, alert_start=grown.run_start, alert_opened=verdict.bucket + step)
        return opened, [_event("open", opened, verdict, step)]
    return grown, []


def stream_starts(
    totals: pd.Series, first_post: pd.Timestamp | None, params: OnlineParams
) -> np.ndarray:
    """For each bucket, the position where its brand's current stream of data began.

    Data begins at the first collected post; after a silence of `max_silence_hours` (no post at
    all: the collector was not running) it begins again, so the silence counts as missing.
    Positions past the end mean the data has not begun yet at that bucket.
    """
    step = _step(totals.index)
    silence = max(1, math.ceil(pd.Timedelta(hours=params.max_silence_hours) / step))
    first = (
        len(totals)
        if first_post is None
        else int(totals.index.searchsorted(pd.Timestamp(first_post).floor(step), side="left"))
    )
    starts = np.full(len(totals), first)
    zeros = 0
    for i, total in enumerate(totals.to_numpy()):
        if total > 0 and i > first and zeros >= silence:
            first = i
        zeros = zeros + 1 if total <= 0 else 0
        starts[i] = first
    return starts


def _step(index: pd.Index) -> pd.Timedelta:
    freq = getattr(index, "freq", None)
    if freq is not None:
        return pd.Timedelta(freq)
    return pd.Timedelta(index[1] - index[0]) if len(index) > 1 else pd.Timedelta(minutes=15)


def history_span(step: pd.Timedelta, params: OnlineParams) -> pd.Timedelta:
    """How far back judging one bucket reads."""
    reach = pd.Timedelta(minutes=params.spread_minutes)
    return params.seasonal_days * DAY + reach + pd.Timedelta(hours=params.level_hours) + step


@dataclass(frozen=True)
class Replay:
    """What stepping the detector over a frame decided: final state, verdicts and alert events."""

    state: DetectorState
    verdicts: list[Verdict]
    events: list[AlertEvent]


def step_frame(
    negative: pd.Series,
    totals: pd.Series,
    *,
    first_post: pd.Timestamp | None,
    state: DetectorState | None = None,
    start: pd.Timestamp | None = None,
    params: OnlineParams | None = None,
) -> Replay:
    """Judge every bucket of a frame from `start` (default: after `state.last_bucket`) in order.

    Each bucket sees only the buckets before it, and only those since its stream began, exactly
    as a live scan at that bucket's end would; this is both the live path and the backtest.

    Args:
        negative: Negative posts per bucket, evenly spaced, indexed by bucket start.
        totals: All collected posts per bucket (what says whether data was being collected).
        first_post: Time of the brand's first collected post.
        state: What was decided up to now; a fresh detector when None.
        start: First bucket to judge.
        params: Detector tuning.
    """
    params = params or OnlineParams()
    state = state or DetectorState()
    step = _step(negative.index)
    starts = stream_starts(totals.reindex(negative.index).fillna(0), first_post, params)
    values = negative.to_numpy(dtype=float)
    begin = _first_position(negative.index, state, start)
    verdicts, events = [], []
    for segment in _segments(starts, begin):
        masked = values.copy()
        masked[: starts[segment.start]] = np.nan
        expected, evidence = expectations(masked, step, params)
        for i in segment:
            found = (expected, evidence)
            verdict = _verdict(negative.index[i], masked, found, (i, step), params)
            state, new = advance(state, verdict, step, params)
            verdicts.append(verdict)
            events += new
    return Replay(state, verdicts, events)


def _segments(starts: np.ndarray, begin: int) -> list[range]:
    """Positions from `begin` on, split where the stream restarted; each range's start is its own."""
    cuts = [begin, *[i for i in range(begin + 1, len(starts)) if starts[i] != starts[i - 1]]]
    bounds = [*cuts, len(starts)]
    return [range(a, b) for a, b in itertools.pairwise(bounds) if a < b]


def _first_position(index: pd.Index, state: DetectorState, start: pd.Timestamp | None) -> int:
    begin = 0 if start is None else int(index.searchsorted(start, side="left"))
    if state.last_bucket is not None:
        begin = max(begin, int(index.searchsorted(state.last_bucket, side="right")))
    return begin


def learning_hours_left(
    data_start: pd.Timestamp | None, now: pd.Timestamp, params: OnlineParams | None = None
) -> float:
    """Hours of real history still needed before the detector may alert ("learning the baseline")."""
    params = params or OnlineParams()
    if data_start is None:
        return params.min_history_hours
    seen = (pd.Timestamp(now) - pd.Timestamp(data_start)) / HOUR
    return round(max(0.0, params.min_history_hours - seen), 1)


def state_to_dict(state: DetectorState) -> dict[str, Any]:
    """The state as JSON-ready values (times as ISO strings)."""
    out: dict[str, Any] = {}
    for field in fields(state):
        value = getattr(state, field.name)
        out[field.name] = value.isoformat() if isinstance(value, pd.Timestamp) else value
    return out


def state_from_dict(values: dict[str, Any]) -> DetectorState:
    """The state `state_to_dict` wrote (unknown keys ignored, missing ones default)."""
    known = {f.name: f.type for f in fields(DetectorState)}
    kept = {k: v for k, v in values.items() if k in known}
    for key in ("last_bucket", "run_start", "alert_start", "alert_opened"):
        if kept.get(key) is not None:
            kept[key] = pd.Timestamp(kept[key])
    return DetectorState(**kept)
