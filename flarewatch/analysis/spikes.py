"""Negative-spike detection on per-bucket counts against a robust trailing baseline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class SpikeParams:
    """Tuning of the detector.

    Args:
        window: Trailing buckets the baseline is the median of (the current bucket excluded).
        min_history: Buckets of history needed before anything can be flagged.
        threshold: Robust z-score a bucket must reach.
        min_ratio: Observed / baseline a bucket must reach.
        min_count: Fewest negative posts a flagged bucket may hold (quiet hours stay quiet).
    """

    window: int = 24
    min_history: int = 8
    threshold: float = 4.0
    min_ratio: float = 2.0
    min_count: int = 5


@dataclass(frozen=True)
class Spike:
    """A run of consecutive flagged buckets."""

    start: pd.Timestamp
    end: pd.Timestamp
    peak: pd.Timestamp
    observed: int
    baseline: float
    ratio: float
    severity: float
    buckets: int


def trailing_baseline(counts: pd.Series, params: SpikeParams) -> pd.DataFrame:
    """Return each bucket's trailing median and robust scale, computed from earlier buckets only."""
    history = counts.shift(1).rolling(params.window, min_periods=params.min_history)
    median = history.median()
    mad = history.apply(lambda w: np.median(np.abs(w - np.median(w))), raw=True)
    # Poisson noise floor: a flat baseline of 0s must not make every single post a spike.
    scale = np.maximum(mad * MAD_TO_SIGMA, np.sqrt(median.clip(lower=1.0)))
    return pd.DataFrame({"baseline": median, "scale": scale})


def flag_buckets(counts: pd.Series, params: SpikeParams | None = None) -> pd.DataFrame:
    """Score every bucket: baseline, robust z-score, ratio and whether it is flagged."""
    params = params or SpikeParams()
    frame = trailing_baseline(counts.astype(float), params)
    frame["observed"] = counts
    frame["z"] = (counts - frame["baseline"]) / frame["scale"]
    frame["ratio"] = counts / frame["baseline"].clip(lower=1.0)
    frame["flagged"] = (
        (frame["z"] >= params.threshold)
        & (frame["ratio"] >= params.min_ratio)
        & (counts >= params.min_count)
    ).fillna(False)
    return frame


def _runs(flags: pd.Series) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, flagged in enumerate(flags.to_numpy()):
        if flagged and start is None:
            start = i
        elif not flagged and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(flags) - 1))
    return runs


def detect_spikes(counts: pd.Series, params: SpikeParams | None = None) -> list[Spike]:
    """Find spikes in a time-indexed series of negative counts per bucket.

    Args:
        counts: Negative posts per bucket, indexed by bucket start, zero-filled and evenly spaced.
        params: Detector tuning; defaults suit 15-minute buckets.

    Returns:
        Spikes in time order, each with its peak bucket and a severity (peak robust z-score).
    """
    frame = flag_buckets(counts, params)
    spikes = []
    for first, last in _runs(frame["flagged"]):
        part = frame.iloc[first : last + 1]
        peak = part["z"].idxmax()
        spikes.append(
            Spike(
                start=frame.index[first],
                end=frame.index[last],
                peak=peak,
                observed=int(part.loc[peak, "observed"]),
                baseline=float(part.loc[peak, "baseline"]),
                ratio=float(part.loc[peak, "ratio"]),
                severity=float(part.loc[peak, "z"]),
                buckets=last - first + 1,
            )
        )
    return spikes
