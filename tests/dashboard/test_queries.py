"""The storage queries the dashboard adds, on SQLite and (in CI) PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import T0, make_post


def _store(engine) -> None:
    posts = [
        replace(make_post(1, "down", minutes=0), language="en"),
        replace(make_post(2, "fine", author="a2", minutes=-30), language="de"),
        replace(make_post(3, "down", author="a3", minutes=-60 * 30), platform="mastodon"),
        make_post(4, "other brand", author="a4", minutes=-10, brand="globex"),
    ]
    with session_scope(engine) as s:
        queries.save_posts(s, posts)
        labels = {"down": "negative", "fine": "positive"}
        scores = [
            {
                "post_id": pid,
                "label": labels.get(text, "neutral"),
                "p_negative": 0.5,
                "p_neutral": 0.25,
                "p_positive": 0.25,
            }
            for pid, text in queries.unscored_posts(s, "m", limit=10)
            if text != "fine"
        ]
        queries.save_scores(s, "m", scores)


def test_sentiment_by__counts_labels_per_language_in_the_window(engine):
    _store(engine)
    with session_scope(engine) as s:
        rows = queries.sentiment_by(
            s, "language", model_version="m", brand="acme", start=T0 - timedelta(hours=1)
        )
    assert sorted(rows, key=str) == sorted([("en", "negative", 1), ("de", "unscored", 1)], key=str)


def test_platform_activity__counts_posts_of_the_last_day_per_platform(engine):
    _store(engine)
    with session_scope(engine) as s:
        rows = queries.platform_activity(s, T0 - timedelta(hours=24))
    assert [(r["platform"], r["posts"]) for r in rows] == [("x", 3)]
    assert rows[0]["last_post_at"] == T0


def test_time_range__first_and_last_post_of_a_brand(engine):
    _store(engine)
    with session_scope(engine) as s:
        assert queries.time_range(s, "acme") == (T0 - timedelta(hours=30), T0)
        assert queries.time_range(s, "nobody") == (None, None)


def test_refresh_planner_statistics__runs_on_every_backend(engine):
    _store(engine)
    with session_scope(engine) as s:
        queries.refresh_planner_statistics(s)
        assert queries.count_posts(s) == 4
