"""Spike-detector benchmark: recall, delay and false alarms on labelled traces, plus the demo data.

Usage: python benchmarks/spikes.py [--json] [--traces 20] [--weeks 3] [--seed 0]

Each synthetic trace is a brand's negative posts per 15-minute bucket: a diurnal and weekly
baseline with over-dispersed (gamma-Poisson) noise, quiet stretches (collector outages, holidays)
and injected spikes of several sizes (1.5x to 10x the expected count at that time) and shapes
(step, ramp, pulse, decay). A detection matches an injected spike when it is confirmed between
the spike's first bucket and `cooldown` buckets after its last; any other detection is a false
alarm. Delay is the confirmation bucket minus the spike's first bucket.

The demo replay runs the shipped airline tweets through the detector in hourly buckets. Negative
posts are those the default model labels negative (`--negative-by vader`: VADER's compound
score below -0.05 instead).
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flarewatch.analysis.spikes import Spike, SpikeParams, detect_spikes
from flarewatch.collectors.replay import ReplayOptions, parse_mapping, read_posts
from flarewatch.pipeline.demo import DEMO_EXCLUDED, DEMO_MAPPING, demo_path

BUCKET = pd.Timedelta(minutes=15)
PER_DAY = 96
SIZES = (1.5, 2.0, 3.0, 5.0, 10.0)
SHAPES = ("step", "ramp", "pulse", "decay")
TARGET_SIZE = 3.0
WARMUP = 2 * PER_DAY  # the seasonal baseline needs two days of history
DISPERSION = 20.0  # gamma shape: noise a bit wider than Poisson, as real posting is bursty


@dataclass(frozen=True)
class Injected:
    """One labelled spike in a trace."""

    start: int
    end: int
    size: float
    shape: str


def diurnal(rng: np.random.Generator, days: int) -> np.ndarray:
    """Expected negatives per bucket: busy afternoons, quiet nights, calmer weekends."""
    hours = np.arange(days * PER_DAY) * 24 / PER_DAY
    mean = rng.uniform(6, 25)
    day_shape = 0.35 + 1.3 * np.clip(np.sin(np.pi * ((hours % 24) - 6) / 18), 0, None)
    weekday = np.where(((hours // 24) % 7) >= 5, 0.75, 1.0)
    drift = 1 + 0.1 * np.sin(2 * np.pi * hours / (24 * 9) + rng.uniform(0, 6))
    return mean * day_shape * weekday * drift


def shape_profile(shape: str, length: int) -> np.ndarray:
    """Multiplier profile (0..1) of an injected spike over its buckets."""
    t = np.arange(length)
    if shape == "ramp":
        return np.minimum(1.0, (t + 1) / 4)
    if shape == "decay":
        return np.exp(-t / max(1.0, length / 3))
    return np.ones(length)


def inject(rng: np.random.Generator, rate: np.ndarray, days: int) -> list[Injected]:
    """Add spikes (3 a week on average, after a 2-day warm-up) to `rate` in place."""
    spikes: list[Injected] = []
    starts = np.sort(rng.choice(np.arange(WARMUP, days * PER_DAY - 40), 3 * days // 7))
    for start in starts:
        if spikes and start - spikes[-1].end < 24:
            continue
        shape = str(rng.choice(SHAPES))
        length = 2 if shape == "pulse" else int(rng.integers(4, 17))
        size = float(rng.choice(SIZES))
        window = slice(start, start + length)
        rate[window] += (size - 1) * rate[window] * shape_profile(shape, length)
        spikes.append(Injected(int(start), int(start + length - 1), size, shape))
    return spikes


def quiet_stretches(
    rng: np.random.Generator, rates: list[np.ndarray], days: int, spikes: list[Injected]
) -> None:
    """Silence a few 6-12 hour stretches (collector down, holiday) away from the spikes."""
    for _ in range(max(1, days // 7)):
        start = int(rng.integers(PER_DAY, days * PER_DAY - 48))
        end = start + int(rng.integers(24, 49))
        if any(s.start - 8 <= end and start <= s.end + 8 for s in spikes):
            continue
        for rate in rates:
            rate[start:end] *= 0.1


def trace(rng: np.random.Generator, weeks: int) -> tuple[pd.Series, pd.Series, list[Injected]]:
    """One labelled trace: negative counts, scored totals and the injected spikes."""
    days = 7 * weeks
    rate = diurnal(rng, days)
    base = rate.copy()
    spikes = inject(rng, rate, days)
    quiet_stretches(rng, [rate, base], days, spikes)
    noisy = rng.gamma(DISPERSION, rate / DISPERSION)
    negative = rng.poisson(noisy)
    others = rng.poisson(rng.gamma(DISPERSION, base * 2.0 / DISPERSION))
    index = pd.date_range("2026-01-05", periods=days * PER_DAY, freq=BUCKET, tz="UTC")
    return pd.Series(negative, index), pd.Series(negative + others, index), spikes


def score_trace(
    counts: pd.Series, totals: pd.Series, spikes: list[Injected], params: SpikeParams
) -> tuple[list[tuple[Injected, int | None]], int, int]:
    """Match detections: (spike, delay or None) pairs, false alarms after and during warm-up.

    A detection whose run overlaps a spike (cooldown included) and that is confirmed by the
    spike's end plus cooldown matches it; the delay counts from the spike's first bucket (0 when
    the detector was already alarmed as it began). Detections matching no spike are false alarms.
    """
    found = detect_spikes(counts, params, totals=totals)
    pos = {ts: i for i, ts in enumerate(counts.index)}
    runs = [(pos[s.start], pos[s.end], pos[s.detected]) for s in found if s.detected is not None]
    matched: list[tuple[Injected, int | None]] = []
    used: set[tuple[int, int, int]] = set()
    for spike in spikes:
        late = spike.end + params.cooldown
        hits = [r for r in runs if r[0] <= late and r[1] >= spike.start and r[2] <= late]
        used.update(hits)
        delay = max(0, min(r[2] for r in hits) - spike.start) if hits else None
        matched.append((spike, delay))
    false_alarms = [r for r in runs if r not in used]
    return (
        matched,
        sum(r[0] >= WARMUP for r in false_alarms),
        sum(r[0] < WARMUP for r in false_alarms),
    )


def synthetic(traces: int, weeks: int, seed: int, params: SpikeParams) -> dict[str, object]:
    """Recall, delay and false alarms over `traces` labelled traces of `weeks` weeks."""
    rng = np.random.default_rng(seed)
    results: list[tuple[Injected, int | None]] = []
    false_alarms = warmup_alarms = 0
    for _ in range(traces):
        counts, totals, spikes = trace(rng, weeks)
        matched, fa, fa_warmup = score_trace(counts, totals, spikes, params)
        results += matched
        false_alarms += fa
        warmup_alarms += fa_warmup
    big = [delay for spike, delay in results if spike.size >= TARGET_SIZE]
    delays = [d for d in big if d is not None]
    by_size = {
        str(size): round(
            sum(d is not None for s, d in results if s.size == size)
            / max(1, sum(s.size == size for s, _ in results)),
            3,
        )
        for size in SIZES
    }
    return {
        "recall": round(len(delays) / max(1, len(big)), 3),
        "median_delay_buckets": statistics.median(delays) if delays else None,
        "false_alarms_per_week": round(false_alarms / (traces * (weeks - WARMUP / PER_DAY / 7)), 3),
        "warmup_false_alarms_per_trace": round(warmup_alarms / traces, 3),
        "spikes_at_least_3x": len(big),
        "recall_by_size": by_size,
        "traces": traces,
        "weeks_per_trace": weeks,
        "bucket_minutes": 15,
    }


def _vader_negative(texts: list[str]) -> list[bool]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return [analyzer.polarity_scores(t)["compound"] < -0.05 for t in texts]


def _model_negative(texts: list[str]) -> list[bool]:
    from flarewatch.models.transformer import load_scorer

    return [p.label == "negative" for p in load_scorer("default").predict(texts, batch_size=32)]


def demo_replay(params: SpikeParams, proxy: str = "model") -> dict[str, object]:
    """Replay the shipped airline tweets per brand in hourly buckets and list the spikes found."""
    opts = ReplayOptions(mapping=parse_mapping(DEMO_MAPPING), platform="x", unescape_html=True)
    posts = [p for p in read_posts(demo_path(), opts) if p.brand not in DEMO_EXCLUDED]
    texts = [p.text for p in posts]
    negative = _model_negative(texts) if proxy == "model" else _vader_negative(texts)
    tweets = pd.DataFrame(
        {
            "brand": [p.brand for p in posts],
            "created": [p.created_at for p in posts],
            "negative": negative,
        }
    )
    found = []
    for brand, group in tweets.groupby("brand"):
        hourly = group.set_index("created").resample("1h")
        counts, totals = hourly["negative"].sum(), hourly["negative"].count()
        for spike in detect_spikes(counts, params, totals=totals):
            found.append(_spike_row(str(brand), spike))
    label = "default model" if proxy == "model" else "vader_compound<-0.05"
    return {"negative_by": label, "bucket_minutes": 60, "spikes": found}


def _spike_row(brand: str, s: Spike) -> dict[str, object]:
    return {
        "brand": brand,
        "start": str(s.start),
        "detected": str(s.detected),
        "end": str(s.end),
        "peak_negative": s.observed,
        "baseline": round(s.baseline, 1),
        "ratio": round(s.ratio, 2),
        "kind": s.kind,
        "severity": s.severity,
    }


def main() -> None:
    """Run both parts and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--traces", type=int, default=40)
    parser.add_argument("--weeks", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-demo", action="store_true", help="skip the airline replay")
    parser.add_argument(
        "--negative-by",
        choices=("model", "vader"),
        default="model",
        help="what marks a demo tweet negative: the default model or VADER",
    )
    args = parser.parse_args()
    params = SpikeParams()
    result = synthetic(args.traces, args.weeks, args.seed, params)
    if not args.no_demo:
        result["demo"] = demo_replay(params, args.negative_by)
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
