"""Update metrics and the going-dark rule as pure functions, and the report's update section."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from flarewatch import api
from flarewatch.analysis.updates import parse_silence_limits, silence_due, update_metrics
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import T0, make_post, score_down_as_negative


def _frame() -> pd.DataFrame:
    index = pd.date_range(T0 - timedelta(hours=1), periods=12, freq="15min", tz="UTC")
    negative = [1, 1, 1, 1, 8, 8, 8, 8, 2, 2, 2, 2]
    return pd.DataFrame({"negative": negative, "scored": [10] * 12}, index=index)


def test_update_metrics__first_count_cadence_silence_and_around():
    updates = [T0 + timedelta(minutes=20), T0 + timedelta(minutes=60), T0 - timedelta(hours=3)]
    m = update_metrics(T0, T0 + timedelta(hours=2), updates, _frame())
    assert m["time_to_first_update"] == timedelta(minutes=20)
    assert m["updates"] == 2
    assert m["median_cadence"] == timedelta(minutes=40)
    assert m["longest_silence"] == timedelta(minutes=60)  # the last update to the end
    around = m["around_updates"][1]
    assert around["negative_share_before"] == pytest.approx(0.8)
    assert around["negative_share_after"] == pytest.approx(0.2)


def test_update_metrics__no_update_at_all():
    m = update_metrics(T0, T0 + timedelta(hours=2), [])
    assert m["time_to_first_update"] is None and m["updates"] == 0
    assert m["longest_silence"] == timedelta(hours=2)


def test_silence_due__per_severity_once_per_stretch():
    base = {"opened_at": T0, "last_update": None, "negative_above_baseline": True}
    late = T0 + timedelta(minutes=31)
    assert silence_due(severity="SEV1", now=late, alerted_since=None, **base).since == T0
    assert silence_due(severity="SEV1", now=late, alerted_since=T0, **base) is None
    assert silence_due(severity="SEV2", now=late, alerted_since=None, **base) is None
    assert (
        silence_due(severity="SEV3", now=late + timedelta(days=1), alerted_since=None, **base)
        is None
    )
    calm = {**base, "negative_above_baseline": False}
    assert silence_due(severity="SEV1", now=late, alerted_since=None, **calm) is None


def test_parse_silence_limits__minutes_off_and_errors():
    assert parse_silence_limits("SEV1=15, sev3=90,SEV2=off") == {
        "SEV1": timedelta(minutes=15),
        "SEV3": timedelta(minutes=90),
    }
    with pytest.raises(ValueError, match="SEV9=5"):
        parse_silence_limits("SEV9=5")
    with pytest.raises(ValueError, match="whole number"):
        parse_silence_limits("SEV1=soon")


class KeywordEmbedder:
    """Stands in for the model: one axis per complaint word."""

    def embed(self, texts, batch_size=32):
        return np.array([["down" in t, "login" in t, 0.01] for t in texts], dtype=float)


def test_report__states_our_updates(engine):
    posts = [make_post(i, "acme down", author=f"u{i}", minutes=i) for i in range(40)]
    own = make_post(99, "We are investigating", author="acmecloud", minutes=15)
    with session_scope(engine) as session:
        queries.save_posts(session, [*posts, dataclasses.replace(own, is_own=True)])
        score_down_as_negative(session, "m")
    incident = api.open_incident(engine, "Outage", brand="acme", severity="SEV1", opened_at=T0)
    api.close_incident(engine, incident.id, T0 + timedelta(hours=1))
    text = api.report(engine, incident.id, embedder=KeywordEmbedder())
    assert "## Our public updates" in text
    assert "Time to first public update: 0 days 00:15:00." in text
    assert "Public updates: 1" in text
    assert "Longest silence: 0 days 00:45:00." in text
