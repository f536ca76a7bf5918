"""Build the demo incident from the shipped airline tweets, time-shifted so it looks live."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine

from flarewatch import api
from flarewatch.collectors.replay import ReplayOptions, parse_mapping, read_posts
from flarewatch.domain import RawPost
from flarewatch.models.base import SentimentScorer
from flarewatch.pipeline import score_pending
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

DEMO_FILE = "airline_tweets.csv.gz"
DEMO_MAPPING = "external_id=tweet_id,created_at=tweet_created,author=name,brand=airline,repost_count=retweet_count"
DEMO_BRAND = "US Airways"
DEMO_TITLE = "US Airways: Cancelled Flightled rebookings and hold times"
# The storm disruption at US Airways peaked on the evening of 22 Feb 2015 (UTC); cutting the
# replay a few hours into it makes the incident look live.
DEMO_CUTOFF = datetime(2015, 2, 23, 2, 0, tzinfo=UTC)
# American Airlines tweets start only on 22 Feb in this sample: a sampling artefact, not a spike.
DEMO_EXCLUDED = frozenset({"American"})
DEMO_BUCKET_MINUTES = 60
FALLBACK_OPENED = datetime(2015, 2, 22, 14, 0, tzinfo=UTC)
DEMO_RECENT = timedelta(hours=24)


@dataclass(frozen=True)
class DemoSummary:
    """What the demo build stored."""

    posts: int
    scored: int
    incident_id: int
    spikes: int


def demo_path() -> Path:
    """Path of the shipped demo dataset."""
    return Path(str(resources.files("flarewatch.data").joinpath(DEMO_FILE)))


def demo_posts(now: datetime) -> list[RawPost]:
    """The demo tweets up to the cutoff, shifted so that the cutoff falls on `now`."""
    shift = now - DEMO_CUTOFF
    opts = ReplayOptions(
        mapping=parse_mapping(DEMO_MAPPING), platform="x", shift=shift, unescape_html=True
    )
    posts = read_posts(demo_path(), opts)
    return [p for p in posts if p.created_at <= now and p.brand not in DEMO_EXCLUDED]


def _incident_opened_at(engine: Engine, now: datetime) -> datetime:
    shift = now - DEMO_CUTOFF
    frame = api.timeline(engine, brand=DEMO_BRAND, bucket_minutes=DEMO_BUCKET_MINUTES)
    recent = [s for s in api.spikes(frame) if s.end >= now - DEMO_RECENT]
    # The incident is declared an hour after the first recent spike, as comms teams do.
    return (
        recent[0].start.to_pydatetime() + timedelta(hours=1) if recent else FALLBACK_OPENED + shift
    )


def _ensure_incident(engine: Engine, opened_at: datetime) -> int:
    with session_scope(engine) as session:
        for incident in queries.list_incidents(session):
            if incident.title == DEMO_TITLE:
                return incident.id
        incident = queries.open_incident(
            session,
            DEMO_TITLE,
            brand=DEMO_BRAND,
            severity="SEV2",
            opened_at=opened_at,
            brand_terms=["US Airways", "@USAirways", "usairways"],
        )
        return incident.id


def build_demo(
    engine: Engine,
    scorer: SentimentScorer,
    *,
    now: datetime | None = None,
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Load, score and declare the demo incident; running it again adds nothing twice."""
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        saved = queries.save_posts(session, demo_posts(now))
    scored = score_pending(engine, scorer, batch_size=batch_size, progress=progress)
    incident_id = _ensure_incident(engine, _incident_opened_at(engine, now))
    incident = api.get_incident(engine, incident_id)
    start, end = api.incident_window(engine, incident)
    found = api.window_spikes(
        engine, brand=DEMO_BRAND, start=start, end=end, bucket_minutes=DEMO_BUCKET_MINUTES
    )
    return DemoSummary(saved.received, scored, incident_id, len(found))
