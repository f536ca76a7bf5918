"""Streaming latency benchmark: event to stored, to scored, surge onset to alert, across disconnects.

Usage: python benchmarks/latency.py [--json] [--short] [--seed 1] [--keep DIR]

All on 127.0.0.1. A local fake Jetstream (tests/helpers/fake_jetstream.py, `websockets`) carries
real tweets as Bluesky post events at a steady 300 events/s: background tweets from TweetEval
(none naming a brand) and, about 1% of them, real tweets to two airlines (United and Southwest,
0.5% each, from the February 2015 airline tweets). Each brand gets a surge of negative tweets
(ones the default model labels negative) at a known time, 10x and 5x its baseline rate, and the
server drops every connection at least three times. A local HTTP server stands in for the
webhook destination. The real `flarewatch run` (default model, fast detection on) consumes the
stream. Before it starts, 49 hours of each brand's history are seeded at the same rate and
negative share (measured by the model on a sample of the brand's tweets), so the detector is
past its 48-hour cold start.

`--short` is the test-suite version: one brand, one 10x surge, one disconnect, about 3 minutes.

Figures: ingest lag (event time to stored: `posts.collected_at`), score lag (to `scored_at`),
per surge its ratio, onset-to-alert seconds (the alert's arrival at the sink), the messages the
sink got for it (`alerts`: an alert that escalates is sent again) and the distinct alert events
among them (`alert_events`: one surge, one event), alerts outside
every surge (`false_alerts`), brand posts published but never stored (`lost`) and stored twice
(`duplicated`). Wall times on a shared 2-core machine move with the other load on it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
from sqlalchemy import Engine, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flarewatch.domain import RawPost  # noqa: E402
from flarewatch.matching import Matcher  # noqa: E402
from flarewatch.storage import queries  # noqa: E402
from flarewatch.storage.engine import make_engine, session_scope, upgrade  # noqa: E402
from flarewatch.storage.schema import Post, SentimentScore  # noqa: E402
from tests.helpers.fake_jetstream import FakeJetstream, now_us, post_event  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
AIRLINES = DATA / "airline-tweets" / "tweets.csv"
BACKGROUND = DATA / "tweeteval-sentiment" / "train_text.txt"
RATE = 300.0  # events per second
BRAND_SHARE = 0.005  # per brand: about 1% of the stream names one of the two brands
HISTORY_HOURS = 49
BRANDS = {
    "United": Matcher(("united",), handles=("united",)),
    "Southwest": Matcher(("southwest", "southwestair"), handles=("southwestair",)),
}
SAMPLE = 300  # tweets per brand scored here to learn the model's negative share


@dataclass(frozen=True)
class Surge:
    """Extra negative posts for `brand`: `ratio` times its baseline rate in all, from `at` s."""

    brand: str
    ratio: float
    at: float
    seconds: float


@dataclass(frozen=True)
class Plan:
    """What one run does, in seconds from the start of the stream."""

    seconds: float
    surges: tuple[Surge, ...]
    disconnects: tuple[float, ...]
    brands: tuple[str, ...]


FULL = Plan(
    540,
    (Surge("United", 10, 150, 150), Surge("Southwest", 5, 330, 150)),
    (100, 250, 420),
    ("United", "Southwest"),
)
SHORT = Plan(200, (Surge("United", 10, 40, 150),), (70,), ("United",))


def load_pools(brands: tuple[str, ...]) -> tuple[dict[str, list[str]], list[str]]:
    """Each brand's real tweets that name it, and background tweets that name no brand."""
    pools: dict[str, list[str]] = {b: [] for b in brands}
    with AIRLINES.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["airline"] in pools and BRANDS[row["airline"]].matches(row["text"]):
                pools[row["airline"]].append(row["text"])
    lines = BACKGROUND.read_text(encoding="utf-8").splitlines()
    background = [
        t.strip().strip('"') for t in lines if not any(m.matches(t) for m in BRANDS.values())
    ]
    return pools, background


def learn_negatives(pools: dict[str, list[str]], rng: random.Random) -> tuple[str, dict, dict]:
    """The default model's version, each brand's negative share and its negative tweets."""
    from flarewatch.models.transformer import load_scorer

    scorer = load_scorer("default")
    shares, negatives = {}, {}
    for brand, texts in pools.items():
        sample = rng.sample(texts, min(SAMPLE, len(texts)))
        labels = [p.label for p in scorer.predict(sample, batch_size=32)]
        negatives[brand] = [
            t for t, label in zip(sample, labels, strict=True) if label == "negative"
        ]
        shares[brand] = len(negatives[brand]) / len(sample)
    return scorer.version, shares, negatives


def seed_history(engine: Engine, version: str, shares: dict[str, float], start: datetime) -> int:
    """49 hours of each brand at the live rate and negative share, stored and scored."""
    rng = np.random.default_rng(7)
    per_minute = RATE * BRAND_SHARE * 60
    total = 0
    for brand, share in shares.items():
        minutes = HISTORY_HOURS * 60
        counts = rng.poisson(per_minute, minutes)
        offsets = np.repeat(np.arange(-minutes, 0), counts) * 60 + rng.uniform(0, 60, counts.sum())
        negative = rng.random(len(offsets)) < share
        posts = [
            _seed_post(brand, k, start + timedelta(seconds=float(at)), bool(neg))
            for k, (at, neg) in enumerate(zip(offsets, negative, strict=True))
        ]
        for chunk in range(0, len(posts), 20_000):
            with session_scope(engine) as session:
                queries.save_posts(session, posts[chunk : chunk + 20_000])
        total += len(posts)
    _score_seed(engine, version)
    return total


def _seed_post(brand: str, k: int, at: datetime, negative: bool) -> RawPost:
    text = "seed down" if negative else "seed fine"
    return RawPost("bluesky", f"at://seed/{brand}/{k}", text, at, brand=brand)


def _score_seed(engine: Engine, version: str) -> None:
    while True:
        with session_scope(engine) as session:
            pending = queries.unscored_posts(session, version, limit=50_000)
            if not pending:
                return
            rows = [_seed_score(pid, text) for pid, text in pending]
            queries.save_scores(session, version, rows)


def _seed_score(post_id: int, text: str) -> dict[str, Any]:
    negative = text.endswith("down")
    return {
        "post_id": post_id,
        "label": "negative" if negative else "neutral",
        "p_negative": 0.9 if negative else 0.05,
        "p_neutral": 0.05 if negative else 0.9,
        "p_positive": 0.05,
    }


class Sink:
    """The webhook destination: records each alert with its arrival time."""

    def __init__(self) -> None:
        received: list[tuple[float, dict[str, Any]]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append((time.time(), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"


class AppView:
    """The public AppView's getProfiles, answering every DID with a handle."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                actors = parse_qs(urlparse(self.path).query).get("actors", [])
                profiles = [{"did": a, "handle": a.rsplit(":", 1)[-1] + ".test"} for a in actors]
                body = json.dumps({"profiles": profiles}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/xrpc"


class Producer:
    """Publishes the planned stream in real time and remembers every brand post it sent."""

    def __init__(
        self, fake: FakeJetstream, plan: Plan, pools: dict, negatives: dict, background: list
    ):
        self.fake, self.plan = fake, plan
        self.pools, self.negatives, self.background = pools, negatives, background
        self.published: dict[str, set[str]] = {b: set() for b in plan.brands}
        self.events = 0
        self.rng = random.Random(11)
        self.start = 0.0

    def _post(self, text: str, brand: str | None) -> None:
        self.events += 1
        rkey = f"k{self.events}"
        did = f"did:plc:user{self.rng.randrange(5000)}"
        self.fake.publish(post_event(did, rkey, text, now_us()))
        if brand:
            self.published[brand].add(f"at://{did}/app.bsky.feed.post/{rkey}")

    def _tick(self, elapsed: float, dt: float, owed: dict[str, float]) -> None:
        for _ in range(int(owed.setdefault("", 0.0) + RATE * dt)):
            roll = self.rng.random()
            brand = next(
                (b for k, b in enumerate(self.plan.brands) if roll < (k + 1) * BRAND_SHARE), None
            )
            text = self.rng.choice(self.pools[brand] if brand else self.background)
            self._post(text, brand)
        owed[""] = (owed[""] + RATE * dt) % 1
        for surge in self.plan.surges:
            if surge.at <= elapsed < surge.at + surge.seconds:
                extra = (
                    owed.setdefault(surge.brand, 0.0) + (surge.ratio - 1) * RATE * BRAND_SHARE * dt
                )
                for _ in range(int(extra)):
                    self._post(self.rng.choice(self.negatives[surge.brand]), surge.brand)
                owed[surge.brand] = extra % 1

    def run(self) -> None:
        self.start = time.time()
        owed: dict[str, float] = {}
        drops = list(self.plan.disconnects)
        last = self.start
        while (now := time.time()) - self.start < self.plan.seconds:
            self._tick(now - self.start, now - last, owed)
            last = now
            if drops and now - self.start >= drops[0]:
                drops.pop(0)
                self.fake.disconnect()
            time.sleep(0.02)


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def measure(engine: Engine, producer: Producer, sink: Sink, version: str) -> dict[str, Any]:
    """Lags, surges, false alerts, lost and duplicated posts."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(Post.external_id, Post.collected_at, Post.raw, SentimentScore.scored_at)
            .outerjoin(SentimentScore, (SentimentScore.post_id == Post.id) & (SentimentScore.model_version == version))
            .where(Post.external_id.not_like("at://seed/%"))
        ).all()  # fmt: skip
        doubles = session.scalar(
            select(func.count()).select_from(
                select(SentimentScore.post_id).group_by(SentimentScore.post_id, SentimentScore.model_version)
                .having(func.count() > 1).subquery()
            )
        )  # fmt: skip
    sent = {u for uris in producer.published.values() for u in uris}
    stored = [r.external_id for r in rows]
    ingest = [(r.collected_at.timestamp() - r.raw["jetstream_time_us"] / 1e6) for r in rows]
    scored = [
        (r.scored_at.timestamp() - r.raw["jetstream_time_us"] / 1e6) for r in rows if r.scored_at
    ]
    surges, false_alerts = _alerts(producer, sink)
    return {
        "events": producer.events,
        "events_per_s": round(producer.events / producer.plan.seconds, 1),
        "brand_posts": len(sent),
        "ingest_lag_p50_s": _percentile(ingest, 50),
        "ingest_lag_p95_s": _percentile(ingest, 95),
        "score_lag_p50_s": _percentile(scored, 50),
        "score_lag_p95_s": _percentile(scored, 95),
        "unscored": len(rows) - len(scored),
        "surges": surges,
        "false_alerts": false_alerts,
        "alerts_sent": len(sink.received),
        "lost": len(sent - set(stored)),
        "unexpected": len(set(stored) - sent),
        "duplicated": len(stored) - len(set(stored)) + int(doubles or 0),
        "disconnects": len(producer.plan.disconnects),
        "connections": len(producer.fake.connections),
    }


def _alerts(producer: Producer, sink: Sink) -> tuple[list[dict[str, Any]], int]:
    """First alert of each surge's brand after its onset; every other alert is a false one."""
    surges, claimed = [], set()
    for surge in producer.plan.surges:
        onset = producer.start + surge.at
        hits = [
            (i, at) for i, (at, body) in enumerate(sink.received)
            if body["alert"]["brand"] == surge.brand and onset <= at <= onset + surge.seconds + 300
        ]  # fmt: skip
        claimed.update(i for i, _ in hits)
        first = hits[0][1] - onset if hits else None
        # An alert sent again because it escalated is the same event: one surge, one event.
        events = {sink.received[i][1]["alert"]["event_id"] for i, _ in hits}
        surges.append(
            {"brand": surge.brand, "ratio": surge.ratio,
             "onset_to_alert_s": None if first is None else round(first, 1), "alerts": len(hits),
             "alert_events": len(events)}
        )  # fmt: skip
    return surges, len(sink.received) - len(claimed)


def _watch_file(directory: Path, endpoint: str, appview: str, brands: tuple[str, ...]) -> Path:
    lines = []
    for brand in brands:
        matcher = BRANDS[brand]
        lines += [
            "[[brands]]", f'name = "{brand}"', f"terms = {json.dumps(list(matcher.terms))}",
            f"handles = {json.dumps(list(matcher.handles))}", "",
        ]  # fmt: skip
    lines += [
        "[sources.bluesky_stream]",
        f'endpoint = "{endpoint}"',
        f'appview = "{appview}"',
    ]
    path = directory / "watch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _start_monitor(directory: Path, db: str, watch: Path, sink: Sink) -> subprocess.Popen:
    env = {
        **os.environ, "FLAREWATCH_DATABASE_URL": db, "FLAREWATCH_WATCH_FILE": str(watch),
        "FLAREWATCH_ALERT_WEBHOOK_URL": sink.url, "HF_HUB_OFFLINE": "1",
        "FLAREWATCH_PUBLIC_URL": "http://127.0.0.1:8501", "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    log = (directory / "run.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "flarewatch", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def run(plan: Plan, directory: Path) -> dict[str, Any]:
    """Seed, start the monitor, stream the plan, stop the monitor and measure."""
    rng = random.Random(3)
    pools, background = load_pools(plan.brands)
    version, shares, negatives = learn_negatives(pools, rng)
    db = f"sqlite:///{directory / 'latency.db'}"
    engine = make_engine(db)
    upgrade(engine)
    seeded = seed_history(engine, version, shares, datetime.now(UTC))
    fake, sink, appview = FakeJetstream(), Sink(), AppView()
    fake.start()
    watch = _watch_file(directory, fake.url, appview.url, plan.brands)
    monitor = _start_monitor(directory, db, watch, sink)
    producer = Producer(fake, plan, pools, negatives, background)
    try:
        deadline = time.time() + 300
        while not fake.connections and time.time() < deadline and monitor.poll() is None:
            time.sleep(0.2)
        if not fake.connections:
            raise RuntimeError(f"flarewatch run never connected; see {directory / 'run.log'}")
        producer.run()
        time.sleep(20)  # the last posts: stored, scored
    finally:
        monitor.send_signal(signal.SIGTERM)
        monitor.wait(60)
        fake.stop()
        sink.server.shutdown()
        appview.server.shutdown()
    result = measure(engine, producer, sink, version)
    result.update(
        seeded_history_posts=seeded, negative_share={b: round(s, 2) for b, s in shares.items()}
    )
    result["monitor_exit"] = monitor.returncode
    return result


def main() -> None:
    """Run the plan and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--short", action="store_true", help="one surge, one disconnect (tests)")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = parser.parse_args()
    plan = SHORT if args.short else FULL
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = run(plan, args.keep)
    else:
        with tempfile.TemporaryDirectory() as folder:
            result = run(plan, Path(folder))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
