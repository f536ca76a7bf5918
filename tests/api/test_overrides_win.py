"""A reviewer's label wins over the model's in every view, export and count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import text

from flarewatch import api
from flarewatch.storage import queries
from flarewatch.storage.engine import alembic_config, session_scope, upgrade
from tests.conftest import T0, make_post, score_down_as_negative

MODEL = "m@1"
WINDOW = {"model_version": MODEL, "brand": "acme", "start": T0, "end": T0 + timedelta(hours=2)}


def _seed(engine) -> dict[str, int]:
    """Four posts; the model calls 'down' negative. Returns post ids by a short name."""
    posts = [
        make_post(1, "site is down", author="ana", minutes=1),  # negative, relabelled neutral
        make_post(2, "works for me", author="bo", minutes=2),  # positive, relabelled negative
        make_post(3, "still down", author="cy", minutes=3),  # negative, left alone
        make_post(4, "login broken", author="di", minutes=70),  # unscored, labelled negative
    ]
    with session_scope(engine) as session:
        queries.save_posts(session, posts[:3])
        score_down_as_negative(session, MODEL)
        queries.save_posts(session, posts[3:])
        ids = {p.external_id: _id(session, p.external_id) for p in posts}
        queries.set_label_override(session, ids["1"], "neutral", labelled_by="rev")
        queries.set_label_override(session, ids["2"], "negative", labelled_by="rev")
        queries.set_label_override(session, ids["4"], "negative", labelled_by="rev")
    return {"relabelled_neutral": ids["1"], "relabelled_negative": ids["2"], "unscored": ids["4"]}


def _id(session, external_id: str) -> int:
    return int(
        session.execute(
            text("SELECT id FROM posts WHERE external_id = :e"), {"e": external_id}
        ).scalar_one()
    )


@pytest.mark.parametrize(
    ("cleared", "first_hour", "second_hour"),
    [
        (False, [("negative", 2), ("neutral", 1)], [("negative", 1)]),
        # Clearing the overrides brings the model's labels back, and the unscored post.
        (True, [("negative", 2), ("positive", 1)], [("unscored", 1)]),
    ],
)
def test_buckets__count_the_reviewers_labels(engine, cleared, first_hour, second_hour):
    ids = _seed(engine)
    with session_scope(engine) as session:
        for post_id in ids.values() if cleared else []:
            queries.clear_label_override(session, post_id)
        rows = queries.timeline(session, bucket_minutes=60, **WINDOW)
    first, second = int(T0.timestamp()), int(T0.timestamp()) + 3600
    expected = [(first, *c) for c in first_hour] + [(second, *c) for c in second_hour]
    assert rows == expected


def test_newest_posts_and_breakdowns__show_the_reviewers_labels(engine):
    ids = _seed(engine)
    with session_scope(engine) as session:
        negative = queries.negative_posts(session, **WINDOW)
        by_platform = queries.sentiment_by(session, "platform", **WINDOW)
        posts = queries.posts_with_scores(session, **WINDOW)
    assert [p["text"] for p in negative] == ["login broken", "still down", "works for me"]
    assert all(p["label"] == "negative" for p in negative)
    assert sorted(by_platform) == [("x", "negative", 3), ("x", "neutral", 1)]
    labels = {p["id"]: (p["label"], p["model_label"]) for p in posts}
    assert labels[ids["relabelled_neutral"]] == ("neutral", "negative")
    assert labels[ids["relabelled_negative"]] == ("negative", "positive")
    assert labels[ids["unscored"]] == ("negative", None)


def test_outreach__follows_the_reviewers_labels(engine):
    _seed(engine)
    with session_scope(engine) as session:
        authors = queries.outreach_authors(session, **WINDOW)
        by_handle = {a["handle"]: a for a in authors.to_dict("records")}
        latest = queries.latest_negative_post(session, authors["author_id"].tolist(), **WINDOW)
    # ana's only negative post was relabelled neutral; bo's positive one negative. di's post
    # is not scored yet: authors are ranked on model probabilities, so di waits for the scorer.
    assert sorted(by_handle) == ["bo", "cy"]
    assert by_handle["bo"]["negative_posts"] == 1
    assert by_handle["bo"]["mean_p_negative"] == pytest.approx(0.05)
    assert latest[by_handle["bo"]["author_id"]]["text"] == "works for me"


def test_api_outreach_and_timeline__follow_the_reviewers_labels(engine):
    _seed(engine)
    with session_scope(engine) as session:
        incident = queries.open_incident(session, "Login outage", brand="acme", opened_at=T0)
        queries.close_incident(session, incident.id, resolved_at=T0 + timedelta(minutes=90))
        incident_id = incident.id
    ranked = api.outreach(engine, incident_id, model_version=MODEL)
    assert sorted(ranked["handle"]) == ["bo", "cy"]
    timeline = api.timeline(
        engine, brand="acme", start=WINDOW["start"], end=WINDOW["end"], bucket_minutes=60
    )
    assert timeline["negative"].tolist()[:2] == [2, 1]
    assert timeline["neutral"].tolist()[:2] == [1, 0]
    assert timeline["unscored"].sum() == 0


def test_scores__carry_their_posts_window_and_engagement(engine):
    _seed(engine)
    with session_scope(engine) as session:
        queries.save_posts(session, [make_post(3, "still down", author="cy", minutes=3, likes=7)])
        rows = session.execute(
            text(
                "SELECT s.brand = p.brand, s.author_id = p.author_id, s.created_at = p.created_at,"
                " s.engagement = p.like_count FROM sentiment_scores s JOIN posts p ON p.id = s.post_id"
            )
        ).all()
        authors = queries.outreach_authors(session, **WINDOW)
    assert len(rows) == 3
    assert all(all(row) for row in rows)
    assert dict(zip(authors["handle"], authors["engagement"], strict=True)) == {"bo": 0, "cy": 7}


def test_migration_0008__backfills_scores_stored_before_it(sqlite_engine):
    engine = sqlite_engine
    with session_scope(engine) as session:
        queries.save_posts(session, [make_post(1, "site is down")])
        score_down_as_negative(session, MODEL)
    command.downgrade(alembic_config(engine), "0007")
    upgrade(engine, "head")
    with session_scope(engine) as session:
        rows = queries.timeline(session, bucket_minutes=60, **WINDOW)
    assert rows == [(int(T0.timestamp()), "negative", 1)]


@pytest.mark.parametrize("many", [False, True])
def test_latest_complaints__follow_the_reviewers_labels(engine, many):
    _seed(engine)
    with session_scope(engine) as session:
        # ana's post is scored negative, bo's positive: only a reviewer makes bo a complainer.
        queries.save_posts(session, [make_post(5, "down since noon", author="ana", minutes=0)])
        score_down_as_negative(session, MODEL)
        authors = dict(session.execute(text("SELECT handle, id FROM authors")).all())
        # Past FEW_AUTHORS ids the query reads the whole window instead of a list of ids.
        wanted = list(authors.values()) + (list(range(10**6, 10**6 + 3000)) if many else [])
        latest = queries.latest_negative_post(session, wanted, **WINDOW)
    texts = {handle: latest[i]["text"] for handle, i in authors.items() if i in latest}
    # ana's newest post was relabelled neutral: her earlier negative one is the complaint. The
    # model called bo's and di's (now scored) posts positive; their reviewers' labels win.
    assert texts == {
        "ana": "down since noon",
        "bo": "works for me",
        "cy": "still down",
        "di": "login broken",
    }
