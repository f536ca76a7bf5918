"""Spikes in negative volume and negative share against a robust, seasonal trailing baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAD_TO_SIGMA = 1.4826
DAY = pd.Timedelta(days=1)
SEVERITY_GRADES = ((80.0, "SEV1"), (60.0, "SEV2"), (35.0, "SEV3"), (0.0, "SEV4"))


@dataclass(frozen=True)
class SpikeParams:
    """Tuning of the detector; the defaults suit 15- to 60-minute buckets.

    Args:
        window: Recent buckets (the current one excluded) the short-term baseline is the median of.
        min_history: Buckets of history needed before anything can be flagged.
        threshold: Robust z-score a bucket must reach to count as elevated.
        strong_threshold: Robust z-score that confirms a spike in a single bucket.
        min_ratio: Observed / baseline a flagged bucket must reach.
        min_count: Fewest negative posts a flagged bucket may hold (quiet hours stay quiet).
        persistence: Elevated buckets in a row that confirm a spike below `strong_threshold`.
        cooldown: Quiet buckets after which a new spike may start; closer runs are one spike.
        seasonal_days: Previous days whose same bucket of the day form the seasonal baseline.
        min_seasonal_days: Previous days needed before the seasonal baseline replaces the recent one.
        seasonal_spread_minutes: How far either side of the same time each previous day's sample
            reaches (neighbouring buckets pooled, for a steadier median).
        level_window: Recent buckets whose median says how busy today is against the usual.
        level_clip: Bounds of the "today is busier than usual" factor applied to the seasonal baseline.
        min_share_delta: Rise in negative share over its baseline a share spike needs.
    """

    window: int = 24
    min_history: int = 8
    threshold: float = 3.25
    strong_threshold: float = 5.5
    min_ratio: float = 2.0
    min_count: int = 5
    persistence: int = 2
    cooldown: int = 4
    seasonal_days: int = 7
    min_seasonal_days: int = 2
    seasonal_spread_minutes: int = 45
    level_window: int = 48
    level_clip: tuple[float, float] = (0.67, 1.5)
    min_share_delta: float = 0.2


@dataclass(frozen=True)
class Spike:
    """A confirmed run of elevated buckets (gaps shorter than the cooldown included).

    `severity` is a 0-100 score of magnitude (peak ratio) and size (posts above baseline);
    `detected` is the bucket in which the spike was confirmed, the earliest an alert could go out.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    peak: pd.Timestamp
    observed: int
    baseline: float
    ratio: float
    severity: float
    buckets: int
    z: float = 0.0
    detected: pd.Timestamp | None = None
    kind: str = "volume"
    excess: float = 0.0
    share: float | None = None
    baseline_share: float | None = None

    @property
    def grade(self) -> str:
        """The incident severity (SEV1-SEV4) this spike suggests."""
        return next(grade for floor, grade in SEVERITY_GRADES if self.severity >= floor)


def _step(index: pd.Index) -> pd.Timedelta:
    freq = getattr(index, "freq", None)
    if freq is not None:
        return pd.Timedelta(freq)
    return pd.Timedelta(index[1] - index[0]) if len(index) > 1 else pd.Timedelta(minutes=15)


def _mad(frame: pd.DataFrame, center: pd.Series) -> pd.Series:
    return frame.sub(center, axis=0).abs().median(axis=1)


def _recent(values: pd.Series, params: SpikeParams) -> tuple[pd.Series, pd.Series]:
    past = values.shift(1)
    lags = pd.concat([past.shift(k) for k in range(params.window)], axis=1)
    median = lags.median(axis=1)
    median[lags.notna().sum(axis=1) < params.min_history] = np.nan
    return median, _mad(lags, median)


def _seasonal(values: pd.Series, params: SpikeParams) -> tuple[pd.Series, pd.Series]:
    per_day = max(1, round(DAY / _step(values.index)))
    reach = round(pd.Timedelta(minutes=params.seasonal_spread_minutes) / _step(values.index))
    spread = range(-reach, reach + 1)
    days = range(1, params.seasonal_days + 1)
    lags = pd.concat([values.shift(k * per_day + j) for k in days for j in spread], axis=1)
    median = lags.median(axis=1)
    median[lags.notna().sum(axis=1) < params.min_seasonal_days * len(spread)] = np.nan
    return median, _mad(lags, median)


def trailing_baseline(counts: pd.Series, params: SpikeParams) -> pd.DataFrame:
    """Return each bucket's baseline and robust scale, computed from earlier buckets only.

    The baseline is the median of the same bucket on previous days, scaled by how busy the recent
    hours were against their own seasonal expectation; until enough days exist it is the median of
    the recent buckets.
    """
    values = counts.astype(float)
    recent, recent_mad = _recent(values, params)
    seasonal, seasonal_mad = _seasonal(values, params)
    level_raw = ((values + 1) / (seasonal + 1)).shift(1)
    level = level_raw.rolling(params.level_window, min_periods=1).median().clip(*params.level_clip)
    use_seasonal = seasonal.notna() & recent.notna()
    baseline = (seasonal * level.fillna(1.0)).where(use_seasonal, recent)
    mad = (seasonal_mad * level.fillna(1.0)).where(use_seasonal, recent_mad)
    # Poisson noise floor: a flat baseline of 0s must not make every single post a spike.
    scale = np.maximum(mad * MAD_TO_SIGMA, np.sqrt(baseline.clip(lower=1.0)))
    return pd.DataFrame({"baseline": baseline, "scale": scale})


def _share_flags(
    counts: pd.Series, totals: pd.Series, params: SpikeParams
) -> tuple[pd.Series, pd.Series, pd.Series]:
    share = (counts / totals.where(totals > 0)).astype(float)
    recent = share.shift(1).rolling(params.window, min_periods=params.min_history).median()
    base = recent.clip(lower=0.02, upper=0.98)
    z = (share - base) / np.sqrt(base * (1 - base) / totals.clip(lower=1))
    flagged = (
        (z >= params.threshold)
        & (share - base >= params.min_share_delta)
        & (counts >= params.min_count)
    )
    return share, recent, flagged.fillna(False).astype(bool)


def flag_buckets(
    counts: pd.Series, params: SpikeParams | None = None, totals: pd.Series | None = None
) -> pd.DataFrame:
    """Score every bucket: baseline, robust z-score, ratio and whether it is elevated.

    Args:
        counts: Negative posts per bucket, evenly spaced and zero-filled.
        params: Detector tuning.
        totals: Scored posts per bucket; when given, a jump in negative share also flags a bucket.

    Returns:
        One row per bucket with `baseline`, `scale`, `observed`, `z`, `ratio`, `volume`, `share`,
        `baseline_share`, `share_flag`, `flagged` and `strong`.
    """
    params = params or SpikeParams()
    frame = trailing_baseline(counts, params)
    frame["observed"] = counts
    frame["z"] = (counts - frame["baseline"]) / frame["scale"]
    frame["ratio"] = counts / frame["baseline"].clip(lower=1.0)
    frame["volume"] = (
        (frame["z"] >= params.threshold)
        & (frame["ratio"] >= params.min_ratio)
        & (counts >= params.min_count)
    ).fillna(False)
    frame["share"], frame["baseline_share"], frame["share_flag"] = np.nan, np.nan, False
    if totals is not None:
        share, base, flags = _share_flags(counts, totals.reindex(counts.index).fillna(0), params)
        frame["share"], frame["baseline_share"], frame["share_flag"] = share, base, flags
    frame["flagged"] = frame["volume"] | frame["share_flag"]
    frame["strong"] = frame["volume"] & (frame["z"] >= params.strong_threshold)
    return frame


def _runs(flags: pd.Series, cooldown: int = 0) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in np.flatnonzero(flags.to_numpy()):
        if runs and i - runs[-1][1] <= cooldown + 1:
            runs[-1] = (runs[-1][0], int(i))
        else:
            runs.append((int(i), int(i)))
    return runs


def _confirmed_at(part: pd.DataFrame, persistence: int) -> int | None:
    in_a_row = 0
    for i, (flagged, strong) in enumerate(zip(part["flagged"], part["strong"], strict=True)):
        in_a_row = in_a_row + 1 if flagged else 0
        if strong or in_a_row >= persistence:
            return i
    return None


def severity_score(peak_ratio: float, excess: float) -> float:
    """Score a spike 0-100 from its peak ratio and the posts it added above baseline."""
    magnitude = math.log2(max(peak_ratio, 1.0)) * math.log10(1 + max(excess, 0.0))
    return round(100 * (1 - math.exp(-magnitude / 3)), 1)


def _kind(part: pd.DataFrame) -> str:
    volume, share = bool(part["volume"].any()), bool(part["share_flag"].any())
    return "volume+share" if volume and share else ("share" if share else "volume")


def _spike(frame: pd.DataFrame, first: int, last: int, confirmed: int) -> Spike:
    part = frame.iloc[first : last + 1]
    peak = part["z"].idxmax() if part["volume"].any() else part["share"].idxmax()
    row = part.loc[peak]
    excess = float((part["observed"] - part["baseline"].fillna(0)).clip(lower=0).sum())
    share = None if pd.isna(row["share"]) else float(row["share"])
    base_share = None if pd.isna(row["baseline_share"]) else float(row["baseline_share"])
    return Spike(
        start=frame.index[first],
        end=frame.index[last],
        peak=peak,
        observed=int(row["observed"]),
        baseline=float(row["baseline"]),
        ratio=float(row["ratio"]),
        severity=severity_score(float(part["ratio"].max()), excess),
        buckets=last - first + 1,
        z=float(row["z"]),
        detected=frame.index[first + confirmed],
        kind=_kind(part),
        excess=excess,
        share=share,
        baseline_share=base_share,
    )


def detect_spikes(
    counts: pd.Series, params: SpikeParams | None = None, *, totals: pd.Series | None = None
) -> list[Spike]:
    """Find spikes in a time-indexed series of negative counts per bucket.

    A run of elevated buckets becomes a spike once it persists for `params.persistence` buckets or
    one bucket is extreme; runs separated by fewer than `params.cooldown` quiet buckets merge, so
    one incident raises one spike.

    Args:
        counts: Negative posts per bucket, indexed by bucket start, zero-filled and evenly spaced.
        params: Detector tuning.
        totals: Scored posts per bucket, to also catch jumps in negative share.

    Returns:
        Spikes in time order, each with its peak bucket, detection bucket and 0-100 severity.
    """
    params = params or SpikeParams()
    frame = flag_buckets(counts, params, totals)
    spikes = []
    for first, last in _runs(frame["flagged"], params.cooldown):
        confirmed = _confirmed_at(frame.iloc[first : last + 1], params.persistence)
        if confirmed is not None:
            spikes.append(_spike(frame, first, last, confirmed))
    return spikes
