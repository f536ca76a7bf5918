"""A seeded database for dashboard tests: incidents, a quiet baseline, a negative spike, health."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import streamlit as st

from flarewatch import api
from flarewatch.domain import RawAuthor, RawPost
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade
from tests.conftest import T0, make_post, score_down_as_negative

APP = "flarewatch/dashboard/app.py"
# Posts end at the current quarter hour, so the open incident looks live in a browser too.
SHIFT = (datetime.now(UTC) - T0) // timedelta(minutes=15) * 15
NOW = T0 + timedelta(minutes=SHIFT)
FAN_POSTS, ANGRY_POSTS = 190, 120  # fans one every 15 min back from NOW; the angry in 2 hours


def _fan_post(i: int) -> RawPost:
    """A happy post; every third one on Mastodon, every fifth one in German."""
    post = make_post(i, f"all good {i}", author=f"fan{i % 40}", minutes=SHIFT - 15 * i)
    post = replace(post, language="de" if i % 5 == 0 else "en")
    if i % 3 == 0:
        author = RawAuthor(platform="mastodon", external_id=f"fan{i % 40}", handle=f"fan{i % 40}")
        post = replace(post, platform="mastodon", author=author)
    return post


def seed(url: str) -> int:
    """Store 2 days of posts with a negative burst at the end, score them, open incidents."""
    engine = make_engine(url)
    upgrade(engine)
    posts = [_fan_post(i) for i in range(FAN_POSTS)]
    posts += [
        make_post(
            1000 + i,
            f"app down again {i}",
            author=f"angry{i % 25}",
            minutes=SHIFT - (i % 8) * 15,
            followers=100 * i,
        )
        for i in range(ANGRY_POSTS)
    ]
    with session_scope(engine) as s:
        queries.save_posts(s, posts)
        score_down_as_negative(s, "test-model")
        old = queries.open_incident(
            s, "Checkout errors", brand="acme", severity="SEV3", opened_at=NOW - timedelta(hours=30)
        )
        queries.close_incident(s, old.id, resolved_at=NOW - timedelta(hours=26))
        incident = queries.open_incident(
            s, "App login outage", brand="acme", severity="SEV2", opened_at=NOW - timedelta(hours=1)
        )
        queries.record_source_success(s, "x", 120, at=NOW)
        queries.record_source_failure(s, "reddit", "HTTP 503 from oauth.reddit.com", at=NOW)
        return incident.id


def add_early_warning(url: str, brand: str) -> None:
    """Store a spike seen while no incident was open for `brand`: a "possible incident"."""
    fields = {
        "kind": "count",
        "started_at": NOW - timedelta(hours=2),
        "peak_at": NOW,
        "detected_at": NOW,
        "ended_at": NOW,
        "observed": 40,
        "baseline": 4.0,
        "ratio": 10.0,
        "severity": 80.0,
    }
    with session_scope(make_engine(url)) as s:
        queries.open_alert_event(s, brand, fields)


class KeywordEmbedder:
    """Stands in for the sentiment model in theme clustering: one axis per complaint word."""

    words = ("down", "login", "good")

    def embed(self, texts, batch_size=32):
        return np.array([[w in t for w in self.words] + [0.01] for t in texts], dtype=float)


@pytest.fixture
def seeded_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    seed(url)
    monkeypatch.setenv("FLAREWATCH_DATABASE_URL", url)
    monkeypatch.delenv("FLAREWATCH_DASHBOARD_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path.parent)  # no stray flarewatch.toml
    monkeypatch.setattr(api, "default_embedder", lambda model=None: KeywordEmbedder())
    st.cache_data.clear()
    st.cache_resource.clear()
    return url
