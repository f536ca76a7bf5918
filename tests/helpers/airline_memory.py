"""Incident-memory cases from the airline tweets: past incidents per complaint, held-out spikes.

Each airline's tweets that name exactly one complaint (keywords below) are split in time: the
earlier 60% become a past incident of that complaint (with a short post-mortem), the later 40%
a new spike. A quarter of each incident and spike is other tweets of the airline that name no
complaint, so neither is pure. The right answer for a spike is the past incident of its complaint.
Tweets keep their text; their times are moved so each incident and spike has its own window.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import HashingVectorizer
from sqlalchemy import Engine

from flarewatch import api
from flarewatch.analysis.themes import clean
from flarewatch.domain import RawAuthor, RawPost
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

CSV = Path(__file__).resolve().parents[3] / "shared/data/airline-tweets/tweets.csv"
COMPLAINTS = {
    "cancelled": r"cancel",
    "baggage": r"\bbags?\b|luggage|baggage",
    "delay": r"delay|\blate\b|tarmac",
    "hold": r"\bon hold\b|\bhold\b|\bphone\b|call back|hung up|\bcalling\b",
    "refund": r"refund|\bfees?\b|charged",
    "seat": r"\bseats?\b|upgrade",
    "website": r"website|\bapp\b|online|check.?in|\bsite\b",
    "attendant": r"attendant|\bcrew\b|\brude\b|gate agent",
}
POSTMORTEMS = {
    "cancelled": ("Storm grounded the hub; crew scheduling could not keep up", "Rebooking desk"),
    "baggage": ("Baggage sorter at the hub failed during peak", "Sorter firmware rolled back"),
    "delay": ("De-icing capacity too small for the storm", "Extra de-icing trucks leased"),
    "hold": ("Call centre queue overflowed; no callback option", "Callback queue enabled"),
    "refund": ("Refund job failed on fare changes", "Refund job fixed and rerun"),
    "seat": ("Seat map service returned stale assignments", "Seat map cache invalidated"),
    "website": ("Check-in service timed out under load", "Check-in service scaled out"),
    "attendant": ("Crew briefings skipped during irregular operations", "Briefings restored"),
}
MIN_TWEETS = 40
MIN_CANDIDATES = 3
PAST_SHARE = 0.6
NOISE_SHARE = 0.25
PAST_START = datetime(2015, 1, 1, tzinfo=UTC)
SPIKE_START = datetime(2015, 6, 1, tzinfo=UTC)


@dataclass
class Case:
    """A new spike of one airline whose right answer is the past incident of `complaint`."""

    brand: str
    complaint: str
    start: datetime
    posts: list[RawPost] = field(default_factory=list)


@dataclass
class PastIncident:
    """A past incident of one airline and complaint, with its posts and post-mortem."""

    brand: str
    complaint: str
    start: datetime
    posts: list[RawPost] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.brand}: {self.complaint} complaints"


def load_tweets(path: Path = CSV) -> pd.DataFrame:
    """The tweets with their one complaint (None when they name none or several)."""
    tweets = pd.read_csv(path).drop_duplicates("tweet_id")
    tweets["created"] = pd.to_datetime(tweets["tweet_created"], format="%Y-%m-%d %H:%M:%S %z")
    lower = tweets["text"].str.lower()
    hits = pd.DataFrame({k: lower.str.contains(v, regex=True) for k, v in COMPLAINTS.items()})
    tweets["complaint"] = hits.idxmax(axis=1).where(hits.sum(axis=1) == 1)
    return tweets.sort_values("created").reset_index(drop=True)


def _posts(rows: pd.DataFrame, brand: str, start: datetime) -> list[RawPost]:
    # Spread over three hours from `start`, in the tweets' own order.
    step = timedelta(hours=3) / max(len(rows), 1)
    return [
        RawPost(
            platform="x",
            external_id=str(row.tweet_id),
            text=str(row.text),
            created_at=start + i * step,
            author=RawAuthor(platform="x", external_id=str(row.name), handle=str(row.name)),
            brand=brand,
        )
        for i, row in enumerate(rows.itertuples())
    ]


def build(tweets: pd.DataFrame) -> tuple[list[PastIncident], list[Case]]:
    """Past incidents and held-out spike cases, for every airline and frequent complaint."""
    past, cases = [], []
    slot = 0
    for brand, own in tweets.groupby("airline"):
        noise = own.loc[own["complaint"].isna()].sample(frac=1.0, random_state=0)
        for complaint, rows in own.groupby("complaint"):
            if len(rows) < MIN_TWEETS:
                continue
            cut = int(len(rows) * PAST_SHARE)
            old, new = rows.iloc[:cut], rows.iloc[cut:]
            extra_old = noise.iloc[: int(len(old) * NOISE_SHARE)]
            noise = noise.iloc[len(extra_old) :]
            extra_new = noise.iloc[: int(len(new) * NOISE_SHARE)]
            noise = noise.iloc[len(extra_new) :]
            start = PAST_START + timedelta(days=slot)
            spike = SPIKE_START + timedelta(days=slot)
            past.append(
                PastIncident(
                    str(brand),
                    str(complaint),
                    start,
                    _posts(pd.concat([old, extra_old]), str(brand), start),
                )
            )
            cases.append(
                Case(
                    str(brand),
                    str(complaint),
                    spike,
                    _posts(pd.concat([new, extra_new]), str(brand), spike),
                )
            )
            slot += 1
    brands = Counter(p.brand for p in past)
    # With fewer than three past incidents to choose from, ranking first says little.
    return past, [c for c in cases if brands[c.brand] >= MIN_CANDIDATES]


class HashingEmbedder:
    """A cheap, deterministic stand-in for the model: hashed bag of words, for unit tests."""

    version = "hashing-test-1"

    def __init__(self, features: int = 1024):
        self.vectorizer = HashingVectorizer(
            n_features=features, alternate_sign=False, stop_words="english"
        )

    def embed(self, texts, batch_size: int = 32) -> np.ndarray:
        return self.vectorizer.transform([clean(t) for t in texts]).toarray()


def _all_negative(engine: Engine, model_version: str) -> None:
    with session_scope(engine) as session:
        pending = queries.unscored_posts(session, model_version, limit=1_000_000)
        scores = [
            {
                "post_id": pid,
                "label": "negative",
                "p_negative": 0.9,
                "p_neutral": 0.05,
                "p_positive": 0.05,
            }
            for pid, _ in pending
        ]
        queries.save_scores(session, model_version, scores)


def seed(
    engine: Engine, past: list[PastIncident], cases: list[Case], scorer=None
) -> dict[str, int]:
    """Store every post (scored by `scorer`, else all negative) and the past incidents with
    their post-mortems; return incident ids by "brand/complaint"."""
    with session_scope(engine) as session:
        queries.save_posts(session, [p for group in (*past, *cases) for p in group.posts])
    if scorer is None:
        _all_negative(engine, "all-negative")
    else:
        api.score_pending(engine, scorer, batch_size=64)
    ids = {}
    for incident in past:
        row = api.open_incident(
            engine, incident.title, brand=incident.brand, opened_at=incident.start
        )
        api.close_incident(engine, row.id, incident.start + timedelta(hours=3))
        cause, fix = POSTMORTEMS[incident.complaint]
        api.save_postmortem(engine, row.id, summary=incident.title, root_cause=cause, fix=fix)
        ids[f"{incident.brand}/{incident.complaint}"] = row.id
    return ids


def fire(engine: Engine, case: Case) -> int:
    """Store the case's spike as an early warning, as the detector would; return its id."""
    fields = {
        "kind": "volume",
        "started_at": case.start,
        "peak_at": case.start + timedelta(hours=1),
        "detected_at": case.start + timedelta(minutes=30),
        "ended_at": case.start + timedelta(hours=3),
        "observed": len(case.posts),
        "baseline": 2.0,
        "ratio": len(case.posts) / 2.0,
        "severity": 80.0,
    }
    with session_scope(engine) as session:
        return queries.open_alert_event(session, case.brand, fields)


def rank_of(matches: list[dict], incident_id: int) -> int | None:
    """1-based rank of `incident_id` among the matches (None when not among them)."""
    ids = [m["incident_id"] for m in matches]
    return ids.index(incident_id) + 1 if incident_id in ids else None
