"""Facet rollups stay equal to the posts and scores they count; breakdowns read from them unchanged."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import select

from flarewatch.domain import RawAuthor, RawPost
from flarewatch.storage import queries
from flarewatch.storage.engine import alembic_config, session_scope, upgrade
from flarewatch.storage.queries import facets, views
from flarewatch.storage.queries.views import _labels_by, _own_by
from flarewatch.storage.schema import FacetBucket, LabelOverride, Post, PostBucket, SentimentScore
from tests.conftest import T0, make_post, run_side_by_side

A, B = "m@1", "m@2"
PLATFORMS = ("x", "reddit", "bluesky")
LANGUAGES = ("en", "en", "de", "en-US", "", None)
BRANDS = ("acme", "acme", "globex", None)
LABELS = ("negative", "neutral", "positive")
HOURS = 6


def _random_posts(rng: random.Random, n: int) -> list[RawPost]:
    """Posts over six hours at any microsecond, on three platforms, in tagged and untagged languages."""
    posts = []
    for i in range(n):
        platform = rng.choice(PLATFORMS)
        author = RawAuthor(platform, f"u{rng.randrange(20)}", handle=f"u{i % 20}")
        posts.append(
            RawPost(
                platform=platform,
                external_id=str(i),
                text=f"post {i}",
                created_at=T0 + timedelta(microseconds=rng.randrange(HOURS * 3600 * 10**6)),
                author=author,
                brand=rng.choice(BRANDS),
                language=rng.choice(LANGUAGES),
                is_own=rng.random() < 0.05,
            )
        )
    return posts


def _score(session, rng: random.Random, model: str, ids: list[int]) -> None:
    queries.save_scores(
        session,
        model,
        [
            {
                "post_id": i,
                "label": rng.choice(LABELS),
                "p_negative": 0.3,
                "p_neutral": 0.3,
                "p_positive": 0.4,
            }
            for i in ids
        ],
    )


def _others(session) -> list[int]:
    return list(session.scalars(select(Post.id).where(Post.is_own.is_(False)).order_by(Post.id)))


def _history(engine, seed: int) -> None:
    """Saves, scores, re-scores, overrides, new texts, own posts, removals, purges, languages."""
    rng = random.Random(seed)
    posts = _random_posts(rng, 300)
    with session_scope(engine) as session:
        queries.save_posts(session, posts[:150])
        queries.save_posts(session, posts[100:250])  # half of them stored again
        ids = _others(session)
        _score(session, rng, A, rng.sample(ids, 180))
        _score(session, rng, B, rng.sample(ids, 90))
    with session_scope(engine) as session:
        queries.save_posts(session, posts[250:])
        ids = _others(session)
        _score(session, rng, A, rng.sample(ids, 60))  # some for the second time
        for post_id in rng.sample(sorted(session.scalars(select(Post.id))), 40):
            queries.set_label_override(session, post_id, rng.choice(LABELS), labelled_by="rev")
    with session_scope(engine) as session:
        changed = [replace(p, text=p.text + " edited") for p in rng.sample(posts, 20)]
        queries.save_posts(session, changed)  # new text drops every model's score
        queries.save_posts(session, [replace(p, is_own=True) for p in rng.sample(posts, 8)])
        queries.mark_removed(session, "x", [p.external_id for p in posts[:30]])
        queries.purge_before(session, T0 + timedelta(hours=1))
        ids = sorted(session.scalars(select(Post.id)))
        languages = {i: rng.choice(("en", "fr", "de-AT")) for i in rng.sample(ids, 60)}
        queries.set_post_languages(session, languages)
        _score(session, rng, A, rng.sample(_others(session), 30))


def _recounted(session, column: str, model: str, brand, start, end) -> list:
    """The breakdown recomputed post by post in Python: reviewer, else model, else `unscored`."""
    scores = dict(
        session.execute(
            select(SentimentScore.post_id, SentimentScore.label).where(
                SentimentScore.model_version == model
            )
        ).all()
    )
    overrides = dict(session.execute(select(LabelOverride.post_id, LabelOverride.label)).all())
    counts: Counter = Counter()
    for post in session.scalars(select(Post)):
        if brand is not None and post.brand != brand:
            continue
        if (start is not None and post.created_at < start) or (
            end is not None and post.created_at >= end
        ):
            continue
        group = getattr(post, column)
        counts[group, overrides.get(post.id) or scores.get(post.id) or "unscored"] += 1
        if post.is_own:
            counts[group, "unscored"] -= 1
    return sorted(((g, lbl, n) for (g, lbl), n in counts.items() if n > 0), key=_order)


def _order(row) -> tuple:
    return (row[0] is None, row[0] or "", row[1])


def _windows(rng: random.Random) -> list[tuple]:
    windows = [(None, None), (T0 + timedelta(minutes=15), T0 + timedelta(hours=3))]
    for _ in range(6):
        a, b = sorted(rng.randrange(-600, HOURS * 3600 + 600) for _ in range(2))
        windows.append(
            (
                T0 + timedelta(seconds=a, microseconds=rng.randrange(10**6)),
                T0 + timedelta(seconds=b),
            )
        )
    windows += [(T0 + timedelta(minutes=20), None), (None, T0 + timedelta(minutes=200, seconds=7))]
    windows.append((T0 + timedelta(minutes=31), T0 + timedelta(minutes=44)))  # inside one bucket
    return windows


@pytest.mark.parametrize("seed", [3, 11])
def test_sentiment_by__from_the_rollups_equals_the_posts_one_by_one(engine, seed):
    _history(engine, seed)
    rng = random.Random(seed)
    compared = 0
    with session_scope(engine) as session:
        assert queries.facet_bucket_drift(session) == 0
        assert queries.score_bucket_drift(session) == 0
        for start, end in _windows(rng):
            for column in ("platform", "language"):
                for model, brand in ((A, "acme"), (A, None), (B, "globex"), (A, "")):
                    window = {"model_version": model, "brand": brand, "start": start, "end": end}
                    rows = queries.sentiment_by(session, column, **window)
                    # The breakdown's query before the rollups, our own posts subtracted.
                    reference = _labels_by(session, column, model, brand, start, end)
                    reference.subtract(
                        {
                            (g, "unscored"): n
                            for g, n in _own_by(session, column, brand, start, end).items()
                        }
                    )
                    assert rows == sorted(
                        ((g, lbl, n) for (g, lbl), n in reference.items() if n > 0), key=_order
                    ), (column, window)
                    assert rows == _recounted(session, column, model, brand, start, end)
                    compared += bool(rows)
    assert compared > 50  # most windows hold posts: not a comparison of empty lists


def test_sentiment_by__language_tags_empty_and_missing_stay_apart(engine):
    posts = [replace(make_post(i, "down"), language=("", None, "en")[i % 3]) for i in range(9)]
    with session_scope(engine) as session:
        queries.save_posts(session, posts)
        rows = queries.sentiment_by(session, "language", model_version=A, brand="acme")
    assert rows == [("", "unscored", 3), ("en", "unscored", 3), (None, "unscored", 3)]


def _activity_recounted(session, since) -> list[dict]:
    found: dict = {}
    for post in session.scalars(select(Post).where(Post.created_at >= since)):
        n, last, collected = found.get(post.platform, (0, post.created_at, post.collected_at))
        found[post.platform] = (
            n + 1,
            max(last, post.created_at),
            max(collected, post.collected_at),
        )
    return [
        {"platform": p, "posts": n, "last_collected_at": c, "last_post_at": t}
        for p, (n, t, c) in sorted(found.items())
    ]


def test_platform_activity__from_the_rollup_equals_the_posts(engine):
    _history(engine, 5)
    with session_scope(engine) as session:
        for minutes in (-30, 0, 7, 95, HOURS * 60 - 10, HOURS * 60 + 5):
            since = T0 + timedelta(minutes=minutes, microseconds=minutes * 7)
            assert queries.platform_activity(session, since) == _activity_recounted(session, since)
        assert queries.platform_activity(session, T0 + timedelta(minutes=5))


def test_rebuild_facet_buckets__recounts_what_drifted(engine):
    _history(engine, 7)
    with session_scope(engine) as session:
        assert queries.facet_bucket_drift(session) == 0
        session.scalars(select(PostBucket).where(PostBucket.posts > 0).limit(1)).first().posts += 1
        session.scalars(
            select(FacetBucket).where(FacetBucket.posts > 0).limit(1)
        ).first().posts -= 1
        session.flush()
        assert queries.facet_bucket_drift(session) == 2
        assert queries.rebuild_facet_buckets(session) > 0
        assert queries.facet_bucket_drift(session) == 0


def test_migration_0022__fills_the_rollups_from_stored_posts_and_scores(engine):
    _history(engine, 13)
    with session_scope(engine) as session:
        before = queries.sentiment_by(session, "language", model_version=A, brand="acme")
    command.downgrade(alembic_config(engine), "0021")
    upgrade(engine)
    with session_scope(engine) as session:
        assert session.scalar(select(PostBucket.posts).limit(1)) is not None
        assert queries.facet_bucket_drift(session) == 0
        assert queries.sentiment_by(session, "language", model_version=A, brand="acme") == before


@pytest.mark.postgres
def test_post_buckets__two_transactions_saving_one_new_post_count_it_once(postgres_engine) -> None:
    engine = postgres_engine
    first_saved = threading.Event()

    def first() -> None:
        with session_scope(engine) as session:
            queries.save_posts(session, [make_post(1, "down")])
            first_saved.set()
            time.sleep(0.5)  # commits while the second transaction is already saving

    def second() -> None:
        assert first_saved.wait(10)
        with session_scope(engine) as session:
            queries.save_posts(session, [make_post(1, "down", likes=3)])

    run_side_by_side(first, second)
    with session_scope(engine) as session:
        counted = list(session.scalars(select(PostBucket.posts)))
        likes = session.scalar(select(Post.like_count))
        drift = queries.facet_bucket_drift(session)
    engine.dispose()
    assert counted == [1]
    assert likes == 3  # the second copy still updated the post
    assert drift == 0


def test_sentiment_by__window_starting_just_after_a_bucket_boundary(engine):
    posts = [make_post(1, "down"), make_post(2, "down", minutes=20)]
    with session_scope(engine) as session:
        queries.save_posts(session, posts)  # the first one right at the bucket's start
        start = T0 + timedelta(microseconds=1)
        rows = queries.sentiment_by(
            session,
            "platform",
            model_version=A,
            brand="acme",
            start=start,
            end=T0 + timedelta(hours=1),
        )
        activity = queries.platform_activity(session, start)
    assert rows == [("x", "unscored", 1)]
    assert [(a["platform"], a["posts"]) for a in activity] == [("x", 1)]


@pytest.mark.parametrize("minutes", [15, 60])
def test_timeline__post_totals_from_the_rollup_equal_the_posts(engine, minutes, monkeypatch):
    _history(engine, 17)
    windows = [
        {"model_version": A, "brand": brand, "start": start, "end": end}
        for start, end in _windows(random.Random(17))
        for brand in ("acme", None)
    ]
    with session_scope(engine) as session:
        rolled_up = [queries.timeline(session, bucket_minutes=minutes, **w) for w in windows]
        # The reference: every window's totals counted from the posts, as before the rollup.
        monkeypatch.setattr(views, "post_totals", facets.counted_totals)
        counted = [queries.timeline(session, bucket_minutes=minutes, **w) for w in windows]
    assert rolled_up == counted
    assert sum(bool(rows) for rows in rolled_up) > 15
    assert any(lbl == "unscored" for rows in rolled_up for _, lbl, _ in rows)


@pytest.mark.postgres
def test_facet_buckets__a_language_set_while_the_post_is_scored_moves_its_score(
    postgres_engine,
) -> None:
    engine = postgres_engine
    with session_scope(engine) as session:
        queries.save_posts(session, [replace(make_post(1, "down"), language="en-US")])
        post_id = int(session.scalar(select(Post.id)) or 0)
    scored = threading.Event()

    def score() -> None:
        with session_scope(engine) as session:
            _score(session, random.Random(1), A, [post_id])
            scored.set()
            time.sleep(0.5)  # commits while the language is already being set

    def set_language() -> None:
        assert scored.wait(10)
        with session_scope(engine) as session:
            queries.set_post_languages(session, {post_id: "en"})

    run_side_by_side(score, set_language)
    with session_scope(engine) as session:
        languages = {
            r.language for r in session.scalars(select(FacetBucket).where(FacetBucket.posts > 0))
        }
        drift = queries.facet_bucket_drift(session)
    engine.dispose()
    assert languages == {"en"}
    assert drift == 0


def test_save_posts__new_posts_read_back_as_given(engine):
    """New posts go in through their own insert (RETURNING on PostgreSQL): every column survives."""
    given = replace(
        make_post(1, "down 😡 مرحبا", minutes=7, likes=4),
        created_at=T0 + timedelta(microseconds=123_457),
        language="pt-BR",
        raw={"nested": [1, "ü", None, {"x": 1.5}]},
        reply_to="9",
        quote_of="8",
        reply_count=2,
        quote_count=1,
        repost_count=3,
        removed=True,
        is_own=True,
    )
    with session_scope(engine) as session:
        queries.save_posts(session, [given, make_post(2)])
    with session_scope(engine) as session:
        post = session.scalars(select(Post).where(Post.external_id == "1")).one()
        stored = {f: getattr(post, f) for f in ("platform", "brand", "text", "created_at", "url")}
        stored |= {f: getattr(post, f) for f in ("language", "raw", "reply_to", "quote_of")}
        stored |= {f: getattr(post, f) for f in ("like_count", "repost_count", "reply_count")}
        stored |= {"quote_count": post.quote_count, "removed": post.removed, "is_own": post.is_own}
        assert post.author_id is not None
        assert session.scalar(select(Post.raw).where(Post.external_id == "2")) is None
    assert stored == {f: getattr(given, f) for f in stored}
