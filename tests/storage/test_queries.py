"""Storage round trip, idempotent upsert, cursors, incidents and outreach."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import inspect

from flarewatch.domain import NotFoundError
from flarewatch.storage import queries
from flarewatch.storage.engine import current_revision, session_scope, upgrade
from tests.conftest import T0, make_post


def test_upgrade__creates_every_table_and_is_idempotent(engine):
    upgrade(engine)
    names = set(inspect(engine).get_table_names())
    assert {
        "posts",
        "authors",
        "sentiment_scores",
        "incidents",
        "outreach",
        "collector_cursors",
    } <= names
    assert current_revision(engine) is not None


def test_save_posts__round_trip_keeps_text_time_and_author(engine):
    post = make_post(1, "Ünïcode 😡 مرحبا", followers=1234)
    with session_scope(engine) as s:
        queries.save_posts(s, [post])
    with session_scope(engine) as s:
        rows = queries.outreach_authors(s, model_version="m", min_negative=0)
        assert rows.empty  # nothing scored yet
        assert queries.count_posts(s) == 1
        first, last = queries.time_range(s)
    assert first == last == T0
    assert first.tzinfo is not None


def test_save_posts__twice_changes_nothing(engine):
    posts = [make_post(i, f"post {i}", author=f"a{i % 3}") for i in range(50)]
    with session_scope(engine) as s:
        first = queries.save_posts(s, posts)
    with session_scope(engine) as s:
        second = queries.save_posts(s, posts)
        assert queries.count_posts(s) == 50
    assert (first.inserted, second.inserted) == (50, 0)


def test_save_posts__duplicate_within_batch_is_stored_once(engine):
    with session_scope(engine) as s:
        result = queries.save_posts(s, [make_post(1, likes=1), make_post(1, likes=5)])
        assert result.inserted == 1
        rows = queries.negative_posts(s, model_version="m", label=None)
    assert rows == []  # newest_posts only lists scored posts


def test_scores__unscored_then_saved(engine):
    with session_scope(engine) as s:
        queries.save_posts(s, [make_post(i) for i in range(3)])
        pending = queries.unscored_posts(s, "m1")
        assert len(pending) == 3
        queries.save_scores(
            s,
            "m1",
            [
                {
                    "post_id": pid,
                    "label": "negative",
                    "p_negative": 0.9,
                    "p_neutral": 0.05,
                    "p_positive": 0.05,
                }
                for pid, _ in pending
            ],
        )
        assert queries.unscored_posts(s, "m1") == []
        assert queries.count_unscored(s, "m2") == 3
        assert queries.latest_model_version(s) == "m1"


def test_cursor__round_trip(engine):
    with session_scope(engine) as s:
        assert queries.get_cursor(s, "x", "acme") is None
        queries.set_cursor(s, "x", "acme", "123")
        queries.set_cursor(s, "x", "acme", "456")
        assert queries.get_cursor(s, "x", "acme") == "456"


def test_incident__open_close_list(engine):
    with session_scope(engine) as s:
        inc = queries.open_incident(
            s, "Login outage", brand="acme", brand_terms=["acme"], severity="SEV2", opened_at=T0
        )
        incident_id = inc.id
    with session_scope(engine) as s:
        assert [i.id for i in queries.list_incidents(s, status="open")] == [incident_id]
        closed = queries.close_incident(s, incident_id)
        assert closed.status == "resolved" and closed.resolved_at is not None
    with pytest.raises(ValueError, match="SEV9"), session_scope(engine) as s:
        queries.open_incident(s, "bad", severity="SEV9")
    with pytest.raises(NotFoundError, match="999"), session_scope(engine) as s:
        queries.get_incident(s, 999)


def test_outreach__set_and_read(engine):
    with session_scope(engine) as s:
        queries.save_posts(s, [make_post(1, author="angry")])
        inc = queries.open_incident(s, "Outage", brand="acme")
        author_id = queries.author_ids(s, [("x", "angry")])[("x", "angry")]
        queries.set_outreach(
            s, inc.id, author_id, status="contacted", assignee="sam", note="DM sent"
        )
        states = queries.outreach_states(s, inc.id)
    assert states[author_id]["status"] == "contacted"
    assert states[author_id]["assignee"] == "sam"
    with pytest.raises(ValueError, match="done"), session_scope(engine) as s:
        queries.set_outreach(s, inc.id, author_id, status="done")


def test_max_lengths__match_the_schema_columns():
    from flarewatch.domain import MAX_LENGTHS
    from flarewatch.storage.schema import Author, Post

    columns = {**Author.__table__.columns, **Post.__table__.columns}
    assert {name: columns[name].type.length for name in MAX_LENGTHS} == MAX_LENGTHS


def test_raw_post__too_long_field_names_it():
    with pytest.raises(ValueError, match="language is 17 characters, at most 16 allowed"):
        make_post(1).__class__(**{**make_post(1).__dict__, "language": "x" * 17})


def test_raw_post__count_out_of_range_names_it():
    with pytest.raises(ValueError, match=r"like_count 9223372036854775296 is out of range"):
        make_post(1, likes=9223372036854775296)


def test_count_unscored_between__only_the_window_and_only_unscored(engine):
    from datetime import timedelta

    posts = [make_post(i, "x", minutes=m) for i, m in enumerate((-30, -5, -1, 0, 5))]
    with session_scope(engine) as session:
        queries.save_posts(session, posts)
        ids = dict(queries.unscored_posts(session, "m1", limit=10))
        first = min(ids)
        queries.save_scores(
            session, "m1",
            [{"post_id": first + 1, "label": "neutral", "p_negative": 0, "p_neutral": 1, "p_positive": 0}],
        )  # fmt: skip
        start, end = T0 - timedelta(minutes=10), T0
        assert queries.count_unscored_between(session, "m1", start, end) == 1  # -1 (-5 scored)
        assert queries.count_unscored_between(session, "m2", start, end) == 2


def test_mark_removed__drops_text_once(engine):
    with session_scope(engine) as session:
        queries.save_posts(session, [make_post(1, "gone soon"), make_post(2, "stays")])
        assert queries.mark_removed(session, "x", ["1", "404"]) == 1
        assert queries.mark_removed(session, "x", ["1"]) == 0


def test_upgrade__rebuilding_posts_on_sqlite_keeps_scores(sqlite_engine):
    from alembic import command
    from sqlalchemy import func, select

    from flarewatch.storage.engine import alembic_config
    from flarewatch.storage.schema import SentimentScore
    from tests.conftest import score_down_as_negative

    with session_scope(sqlite_engine) as session:
        queries.save_posts(session, [make_post(1, "site is down"), make_post(2, "down again")])
        score_down_as_negative(session, "m1")
    # 0010 rebuilds `posts` in batch mode; with foreign keys on, that cascaded into scores.
    command.downgrade(alembic_config(sqlite_engine), "0009")
    upgrade(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count()).select_from(SentimentScore)) == 2


def test_brands__each_once_in_order_without_posts_lacking_one(engine):
    posts = [make_post(i, brand=b, minutes=i) for i, b in enumerate(["umb", "acme", "umb", "b"])]
    with session_scope(engine) as session:
        assert queries.brands(session) == []
        queries.save_posts(session, posts)
        queries.save_posts(session, [replace(make_post(9, minutes=9), brand=None)])
        assert queries.brands(session) == ["acme", "b", "umb"]
