"""The detector's reads: people posting negatively per bucket."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import text

from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.queries import detector
from tests.conftest import T0, make_post, score_down_as_negative

EPOCH = int(T0.timestamp())


def _authors(session) -> dict[int, int]:
    counts = detector.negative_authors(
        session, model_version="m1", bucket_minutes=15, brand="acme",
        start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=1),
    )  # fmt: skip
    return dict(counts)


def test_negative_authors__each_author_once_a_bucket(engine):
    posts = [make_post(k, "service down", author="angry", minutes=k) for k in range(6)]
    posts += [make_post(10 + k, "service down", author=f"u{k}", minutes=k) for k in range(3)]
    posts += [make_post(20, "service down", author="angry", minutes=20)]  # the next bucket
    posts += [make_post(30, "all good", author="happy", minutes=1)]
    posts += [make_post(40, "down", brand="other", author="x", minutes=1)]
    with session_scope(engine) as session:
        queries.save_posts(session, posts)
        score_down_as_negative(session, "m1")
        assert _authors(session) == {EPOCH: 4, EPOCH + 900: 1}


def test_negative_authors__unknown_authors_count_alone_and_reviewers_win(engine):
    anonymous = [replace(make_post(k, "service down", minutes=k), author=None) for k in range(3)]
    with session_scope(engine) as session:
        queries.save_posts(session, [*anonymous, make_post(9, "all good", author="b", minutes=2)])
        score_down_as_negative(session, "m1")
        queries.set_label_override(session, _id(session, "0"), "neutral")
        queries.set_label_override(session, _id(session, "9"), "negative")
        # A post the model has not scored yet, marked negative by a reviewer, counts too.
        queries.save_posts(session, [make_post(50, "calm", author="c", minutes=40)])
        queries.set_label_override(session, _id(session, "50"), "negative")
        assert _authors(session) == {EPOCH: 3, EPOCH + 1800: 1}


def _id(session, external_id: str) -> int:
    query = text("SELECT id FROM posts WHERE external_id = :e")
    return int(session.execute(query, {"e": external_id}).scalar_one())
