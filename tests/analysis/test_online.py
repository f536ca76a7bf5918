"""Online detector: cold start, data start, low counts, judging once, and the alert lifecycle."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from flarewatch.analysis.online import (
    DetectorState,
    OnlineParams,
    Verdict,
    advance,
    judge_bucket,
    learning_hours_left,
    state_from_dict,
    state_to_dict,
    step_frame,
    stream_starts,
)

HOURLY = pd.Timedelta(hours=1)
QUARTER = pd.Timedelta(minutes=15)


def _series(values, step=HOURLY, start="2026-03-02") -> pd.Series:
    index = pd.date_range(start, periods=len(values), freq=step, tz="UTC")
    return pd.Series(np.asarray(values, dtype=int), index=index)


def _daily(days: int, seed: int = 5, scale: float = 1.0) -> np.ndarray:
    """Hourly negatives: about 20-30 an hour by day, 1-2 at night."""
    hours = np.arange(days * 24)
    rate = scale * (1.5 + 26 * np.clip(np.sin(np.pi * ((hours % 24) - 6) / 16), 0, None))
    return np.random.default_rng(seed).poisson(rate)


def _opens(replay) -> list[pd.Timestamp]:
    return [e.bucket_start for e in replay.events if e.action == "open"]


def test_step_frame__ordinary_days_raise_no_alert():
    counts = _series(_daily(8))
    assert _opens(step_frame(counts, counts * 2, first_post=counts.index[0])) == []


def test_step_frame__no_alert_while_learning_the_baseline():
    values = _daily(5)
    values[:30] = 0
    values[30:] *= 4  # the stream begins busy: a surge against nothing before
    counts = _series(values)
    first_post = counts.index[30]
    replay = step_frame(counts, counts * 2, first_post=first_post)
    learning = [v.bucket for v in replay.verdicts if v.learning]
    assert learning[-1] == first_post + pd.Timedelta(hours=47)
    assert _opens(replay) == []


def test_learning_hours_left__counts_down_from_data_start():
    start = pd.Timestamp("2026-03-02", tz="UTC")
    assert learning_hours_left(start, start + pd.Timedelta(hours=10)) == 38.0
    assert learning_hours_left(start, start + pd.Timedelta(days=3)) == 0.0
    assert learning_hours_left(None, start) == OnlineParams().min_history_hours


def test_step_frame__hours_before_data_start_are_missing_not_zero():
    values = _daily(7)
    values[: 3 * 24] = 0  # zero-filled hours before collection began
    counts = _series(values)
    began = counts.index[3 * 24]
    assert _opens(step_frame(counts, counts * 2, first_post=began)) == []
    # Read as real zeros, the same hours make the start of the data an alert.
    as_zeros = replace(OnlineParams(), max_silence_hours=10_000)
    assert _opens(step_frame(counts, counts * 2, first_post=counts.index[0], params=as_zeros))


def test_stream_starts__a_long_silence_restarts_the_stream():
    values = np.zeros(6 * 24, dtype=int)
    values[[5, 30, 55]] = 1  # stray posts a day apart
    values[80:] = _daily(6)[80:] * 4  # then the collector really starts
    counts = _series(values)
    starts = stream_starts(counts, counts.index[5], OnlineParams())
    assert starts[79] == 55 and starts[80] == 80
    assert _opens(step_frame(counts, counts, first_post=counts.index[5])) == []


def test_judge_bucket__a_few_posts_on_a_quiet_night_are_not_a_spike():
    history = _daily(7).astype(float)
    night = 7 * 24 + 2  # 02:00, when about 1.5 are expected
    verdict = judge_bucket(_series([0]).index[0], 6, history[:night], HOURLY, OnlineParams())
    assert verdict.expected is not None and verdict.expected < 3
    assert not verdict.elevated and not verdict.strong


def test_step_frame__a_doubling_of_20_to_30_an_hour_alerts_while_it_lasts():
    values = _daily(8)
    onset = 7 * 24 + 12  # noon on day 8, about 25 an hour usually
    values[onset : onset + 6] *= 2
    counts = _series(values)
    [opened] = _opens(step_frame(counts, counts * 2, first_post=counts.index[0]))
    assert counts.index[onset] <= opened <= counts.index[onset + 5]


def test_step_frame__a_tripling_alerts_within_two_buckets():
    values = _daily(8)
    onset = 7 * 24 + 12
    values[onset : onset + 6] *= 3
    counts = _series(values)
    [opened] = _opens(step_frame(counts, counts * 2, first_post=counts.index[0]))
    assert counts.index[onset] <= opened <= counts.index[onset + 2]


def test_step_frame__sparse_surge_found_by_the_trailing_window():
    quarters = np.arange(8 * 96) / 4
    rate = 0.1 + 1.2 * np.clip(np.sin(np.pi * ((quarters % 24) - 6) / 16), 0, None)
    values = np.random.default_rng(2).poisson(rate)  # at most a post or two a bucket
    start = 7 * 96 + 48  # noon on day 8
    values[start : start + 8] += 3
    counts = _series(values, QUARTER)
    opens = _opens(step_frame(counts, counts * 2, first_post=counts.index[0]))
    assert next(o for o in opens if o >= counts.index[start]) <= counts.index[start + 3]


def test_step_frame__judging_in_pieces_decides_exactly_as_at_once():
    values = _daily(9)
    values[8 * 24 + 13 : 8 * 24 + 17] *= 3
    counts = _series(values)
    whole = step_frame(counts, counts * 2, first_post=counts.index[0])
    state, events = DetectorState(), []
    for end in range(100, len(counts) + 1, 7):
        # Each scan sees only the buckets completed so far, resuming from the stored state.
        part = step_frame(
            counts.iloc[:end], counts.iloc[:end] * 2, first_post=counts.index[0], state=state
        )
        state, events = state_from_dict(state_to_dict(part.state)), events + part.events
    tail = step_frame(counts, counts * 2, first_post=counts.index[0], state=state)
    assert events + tail.events == whole.events and whole.events


def _verdict(hour: int, observed: int, elevated: bool, strong: bool = False) -> Verdict:
    bucket = pd.Timestamp("2026-03-02", tz="UTC") + hour * HOURLY
    return Verdict(bucket, observed, 10.0, 1e-4 if elevated else 0.5, elevated, strong)


def _run(flags: list[tuple[int, bool]], params: OnlineParams) -> list[str]:
    state, actions = DetectorState(), []
    for hour, (observed, elevated) in enumerate(flags):
        state, events = advance(state, _verdict(hour, observed, elevated), HOURLY, params)
        actions += [f"{e.action}@{hour}" for e in events]
    return actions


def test_advance__opens_escalates_closes_and_alerts_again_on_a_repeat():
    params = replace(OnlineParams(), cooldown_minutes=120, persistence=2)
    surge = [(25, True), (40, True), (200, True), (12, False), (11, False)]
    actions = _run([(10, False), *surge, (10, False), *surge], params)
    assert actions == [
        "open@2",
        "escalate@3",
        "close@5",
        "open@8",
        "escalate@9",
        "close@11",
    ]


def test_advance__one_elevated_bucket_is_not_an_alert_unless_strong():
    params = OnlineParams()
    assert _run([(25, True), (10, False), (10, False), (25, True), (10, False)], params) == []
    state, events = advance(DetectorState(), _verdict(0, 90, True, True), HOURLY, params)
    assert [e.action for e in events] == ["open"] and state.alert_start is not None


def test_advance__an_alert_never_stays_open_past_a_day():
    params = OnlineParams()
    actions = [a for a in _run([(40, True)] * 30, params) if not a.startswith("escalate")]
    assert actions == ["open@1", "close@23", "open@25"]


def test_step_frame__a_sustained_moderate_rise_alerts_from_the_long_window():
    # Hourly: 3, 5, 8, 8 usually at 11:00-14:00; then 10, 13, 24, 17, a storm's first hours.
    day = np.array([8] * 11 + [3, 5, 8, 8] + [8] * 9)
    values = np.random.default_rng(1).poisson(np.tile(day, 8))
    onset = 7 * 24 + 11
    values[onset : onset + 4] = [10, 13, 24, 17]
    counts = _series(values)
    [opened] = _opens(step_frame(counts, counts * 2, first_post=counts.index[0]))
    assert opened == counts.index[onset + 3]  # 24 alone is not enough; 24 then 17 is
    short_only = replace(OnlineParams(), long_window_minutes=60)
    assert (
        _opens(step_frame(counts, counts * 2, first_post=counts.index[0], params=short_only)) == []
    )


def test_step_frame__a_half_hour_burst_of_a_few_posts_is_not_an_alert():
    values = np.random.default_rng(4).poisson(1.0, 8 * 96)
    start = 7 * 96 + 80  # 20:00 on day 8, about one post a quarter hour
    values[start : start + 4] = [1, 5, 6, 2]  # about 6 above expectation: under an hour's 7
    counts = _series(values, QUARTER)
    replay = step_frame(counts, counts * 2, first_post=counts.index[0])
    elevated = [v.bucket for v in replay.verdicts if v.elevated and v.bucket >= counts.index[start]]
    assert len(elevated) >= 2  # two elevated quarters in a row, but under an hour's worth of excess
    assert [o for o in _opens(replay) if o >= counts.index[start]] == []


def test_advance__one_quiet_bucket_never_breaks_a_run_at_wide_buckets():
    # Hourly buckets: a storm's second hour can dip below the threshold before the third rises.
    assert _run([(25, True), (10, False), (25, True)], OnlineParams()) == ["open@2"]


def test_advance__a_run_survives_a_short_quiet_gap_at_narrow_buckets():
    def run(params: OnlineParams) -> list[str]:
        state, actions = DetectorState(), []
        for k, elevated in enumerate([True, False, False, True]):
            bucket = pd.Timestamp("2026-03-02", tz="UTC") + k * QUARTER
            verdict = Verdict(bucket, 25, 10.0, 1e-4 if elevated else 0.5, elevated, False)
            state, events = advance(state, verdict, QUARTER, params)
            actions += [f"{e.action}@{k}" for e in events]
        return actions

    assert run(OnlineParams()) == ["open@3"]
    assert run(replace(OnlineParams(), run_gap_minutes=15)) == []


def test_expectations__two_days_of_history_are_less_sure_than_seven():
    from flarewatch.analysis.online import expectations

    values = np.full(9 * 24, 10.0)
    _, evidence = expectations(values, HOURLY, OnlineParams())
    two_days, seven_days = evidence[2 * 24 + 12], evidence[8 * 24 + 12]
    assert two_days < seven_days < 7 * 3 * 10  # below the posts the samples hold
    _, plain = expectations(values, HOURLY, replace(OnlineParams(), day_cv=0.0))
    assert plain[8 * 24 + 12] == pytest.approx(7 * 3 * 10)  # seven days of 3 h of 10 posts
