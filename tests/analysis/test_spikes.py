"""Seasonal baseline, share spikes, persistence, cooldown and severity of the spike detector."""

from __future__ import annotations

import numpy as np
import pandas as pd

from flarewatch.analysis.spikes import SpikeParams, detect_spikes, severity_score, trailing_baseline

PER_DAY = 96


def _series(values) -> pd.Series:
    index = pd.date_range("2026-03-01", periods=len(values), freq="15min", tz="UTC")
    return pd.Series(values, index=index)


def _diurnal(days: int, seed: int = 3) -> np.ndarray:
    hours = np.arange(days * PER_DAY) / 4
    rate = 12 * (0.3 + 1.4 * np.clip(np.sin(np.pi * ((hours % 24) - 6) / 18), 0, None))
    return np.random.default_rng(seed).poisson(rate)


def test_detect_spikes__morning_rise_is_not_a_spike_once_days_of_history_exist():
    counts = _series(_diurnal(6))
    late = [s for s in detect_spikes(counts) if s.start >= counts.index[2 * PER_DAY]]
    assert late == []


def test_trailing_baseline__follows_the_same_hour_on_previous_days():
    counts = _series(_diurnal(6))
    frame = trailing_baseline(counts, SpikeParams())
    night, afternoon = 5 * PER_DAY + 8, 5 * PER_DAY + 60  # 02:00 and 15:00 on day 6
    assert frame["baseline"].iloc[afternoon] > 3 * frame["baseline"].iloc[night]


def test_detect_spikes__injected_step_found_at_once_with_grade():
    values = _diurnal(5)
    start = 4 * PER_DAY + 56
    values[start : start + 6] += 60
    spikes = detect_spikes(_series(values))
    spike = next(s for s in spikes if s.start >= _series(values).index[start - 1])
    assert spike.detected == _series(values).index[start]
    assert spike.severity > 50 and spike.grade in ("SEV1", "SEV2", "SEV3")


def test_detect_spikes__one_moderate_bucket_needs_persistence():
    values = np.full(200, 10)
    values[150] = 24  # z about 4.4: elevated, not extreme
    assert detect_spikes(_series(values)) == []
    values[151] = 24
    [spike] = detect_spikes(_series(values))
    assert spike.detected == _series(values).index[151]


def test_detect_spikes__cooldown_merges_close_runs_into_one_spike():
    values = np.full(200, 10)
    values[150:153] = 60
    values[155:158] = 60  # two quiet buckets in between: the same incident
    assert len(detect_spikes(_series(values), SpikeParams(cooldown=4))) == 1
    assert len(detect_spikes(_series(values), SpikeParams(cooldown=1))) == 2


def test_detect_spikes__negative_share_jump_without_volume_jump():
    negative_share_only = np.full(200, 10)
    negative_share_only[150:154] = 18  # 1.8x volume: no volume spike
    totals_drop = np.full(200, 40)
    totals_drop[150:154] = 22  # but 82% negative instead of 25%
    found = detect_spikes(_series(negative_share_only), totals=_series(totals_drop))
    assert [s.kind for s in found] == ["share"]
    assert found[0].share > 0.8 and found[0].baseline_share == 0.25


def test_severity_score__grows_with_ratio_and_excess():
    assert severity_score(1.0, 100) == 0
    assert severity_score(3, 30) < severity_score(10, 30) < severity_score(10, 500) <= 100
