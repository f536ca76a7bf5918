"""A seeded database for dashboard tests: one incident, a quiet baseline and a negative spike."""

from __future__ import annotations

from datetime import timedelta

import pytest
import streamlit as st

from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade
from tests.conftest import T0, make_post

APP = "flarewatch/dashboard/app.py"


def seed(url: str) -> int:
    """Store 2 days of posts with a negative burst at the end, score them and open an incident."""
    engine = make_engine(url)
    upgrade(engine)
    posts = [make_post(i, f"all good {i}", author=f"fan{i % 40}", minutes=-15 * i) for i in range(190)]
    posts += [make_post(1000 + i, f"app down again {i}", author=f"angry{i % 25}",
                        minutes=-(i % 8) * 15, followers=100 * i) for i in range(120)]
    with session_scope(engine) as s:
        queries.save_posts(s, posts)
        scores = [{"post_id": pid, "label": "negative" if "down" in text else "positive",
                   "p_negative": 0.9 if "down" in text else 0.05, "p_neutral": 0.05,
                   "p_positive": 0.05 if "down" in text else 0.9}
                  for pid, text in queries.unscored_posts(s, "test-model", limit=10_000)]
        queries.save_scores(s, "test-model", scores)
        incident = queries.open_incident(s, "App login outage", brand="acme", severity="SEV2",
                                         opened_at=T0 - timedelta(hours=1))
        return incident.id


@pytest.fixture
def seeded_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    seed(url)
    monkeypatch.setenv("FLAREWATCH_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path.parent)  # no stray flarewatch.toml
    st.cache_data.clear()
    st.cache_resource.clear()
    return url
