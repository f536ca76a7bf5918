"""Score rollups stay equal to the scores they count, and timelines read from them unchanged."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.queries.rollups import bucket_of
from flarewatch.storage.schema import Post, ScoreBucket, SentimentScore
from tests.conftest import T0, make_post, run_side_by_side, score_down_as_negative

A, B = "m@1", "m@2"


def _posts() -> list:
    """60 posts over five hours on two brands (and none), a third of them saying "down"."""
    posts = []
    for i in range(60):
        post = make_post(
            i,
            f"down again {i}" if i % 3 == 0 else f"fine {i}",
            author=f"u{i % 7}",
            minutes=i * 5 + i % 4,
            brand=("acme", "globex")[i % 2],
        )
        posts.append(replace(post, brand=None) if i % 11 == 0 else post)
    return posts


def _rolled_up(session) -> Counter:
    rows = session.execute(select(ScoreBucket)).scalars()
    return Counter(
        {(r.model_version, r.brand, r.bucket, r.label): r.posts for r in rows if r.posts}
    )


def _recomputed(session) -> Counter:
    stmt = select(
        SentimentScore.model_version,
        SentimentScore.brand,
        SentimentScore.created_at,
        SentimentScore.label,
    )
    return Counter((m, b or "", bucket_of(at), lbl) for m, b, at, lbl in session.execute(stmt))


def _score_all_positive(session, model: str, post_ids: list[int]) -> None:
    scores = [
        {"post_id": i, "label": "positive", "p_negative": 0.1, "p_neutral": 0.1, "p_positive": 0.8}
        for i in post_ids
    ]
    queries.save_scores(session, model, scores)


def test_rollup__equals_the_scores_after_inserts_rescores_deletes_and_retention(engine):
    posts = _posts()
    with session_scope(engine) as session:
        queries.save_posts(session, posts)
        score_down_as_negative(session, A)
        score_down_as_negative(session, B)
        assert _rolled_up(session) == _recomputed(session)
        assert sum(_rolled_up(session).values()) == 120
    with session_scope(engine) as session:
        # Re-scored: every negative of model A becomes positive, once twice over.
        negative = [i for i, t in session.execute(select(Post.id, Post.text)) if "down" in t]
        _score_all_positive(session, A, negative)
        _score_all_positive(session, A, negative[:5])
        # The same post twice in one call: the last wins, counted once.
        queries.save_scores(session, B, [_one_score(negative[0], "neutral")] * 2)
        assert _rolled_up(session) == _recomputed(session)
    with session_scope(engine) as session:
        # New text drops both models' scores; our own post drops them for good.
        queries.save_posts(session, [replace(posts[3], text="changed text")])
        queries.save_posts(session, [replace(posts[4], is_own=True)])
        assert _rolled_up(session) == _recomputed(session)
        assert sum(_rolled_up(session).values()) == 116
    with session_scope(engine) as session:
        queries.purge_before(session, T0 + timedelta(minutes=10))
        score_down_as_negative(session, A)  # the changed post, scored again
        assert _rolled_up(session) == _recomputed(session)
        assert sum(_rolled_up(session).values()) == 117
        assert queries.score_bucket_drift(session) == 0
        one = select(ScoreBucket).where(ScoreBucket.posts > 0).limit(1)
        session.scalars(one).first().posts += 1
        session.flush()
        assert queries.score_bucket_drift(session) == 1
        kept = _recomputed(session)
        assert queries.rebuild_score_buckets(session) == len(kept)
        assert _rolled_up(session) == kept
        assert queries.score_bucket_drift(session) == 0


def _expected_timeline(session, seconds: int, **window) -> list[tuple[int, str, int]]:
    """The timeline recomputed post by post from the analyst rows (labels as every view shows)."""
    counts: Counter = Counter()
    for row in queries.posts_with_scores(session, **window):
        b = int(row["created_at"].timestamp()) // seconds * seconds
        counts[b, row["label"] or "unscored"] += 1
    return sorted((b, lbl, n) for (b, lbl), n in counts.items())


@pytest.mark.parametrize(
    ("minutes", "start", "end"),
    [
        (15, 7, 223),  # ragged at both ends
        (60, 0, 300),  # aligned
        (30, 52, 61),  # inside one rollup bucket
        (45, None, 130),
        (15, 100, None),
        (10, 7, 223),  # not a multiple of 15 minutes: read from the scores
    ],
)
def test_timeline__from_the_rollup_equals_the_posts_one_by_one(engine, minutes, start, end):
    posts = _posts()
    with session_scope(engine) as session:
        queries.save_posts(session, posts[:50])
        score_down_as_negative(session, A)
        queries.save_posts(session, posts[50:])  # left unscored
        ids = sorted(session.scalars(select(Post.id)))
        for k, post_id in enumerate(ids[::4]):
            label = ("neutral", "negative", "positive")[k % 3]
            queries.set_label_override(session, post_id, label, labelled_by="rev")
    window = {
        "model_version": A,
        "brand": "acme",
        "start": None if start is None else T0 + timedelta(minutes=start),
        "end": None if end is None else T0 + timedelta(minutes=end),
    }
    with session_scope(engine) as session:
        rows = queries.timeline(session, bucket_minutes=minutes, **window)
        expected = _expected_timeline(session, minutes * 60, **window)
    assert rows == expected
    assert rows  # the window holds posts: the comparison is not between two empty lists


def _one_score(post_id: int, label: str) -> dict:
    return {
        "post_id": post_id,
        "label": label,
        "p_negative": 0.5,
        "p_neutral": 0.3,
        "p_positive": 0.2,
    }


@pytest.mark.postgres
def test_rollup__two_transactions_scoring_one_post_count_it_once(postgres_engine) -> None:
    engine = postgres_engine
    with session_scope(engine) as session:
        queries.save_posts(session, [make_post(1, "down")])
        post_id = int(session.scalar(select(Post.id)) or 0)
    first_saved = threading.Event()

    def first() -> None:
        with session_scope(engine) as session:
            queries.save_scores(session, A, [_one_score(post_id, "negative")])
            first_saved.set()
            time.sleep(0.5)  # commits while the second transaction is already saving

    def second() -> None:
        assert first_saved.wait(10)
        with session_scope(engine) as session:
            queries.save_scores(session, A, [_one_score(post_id, "positive")])

    run_side_by_side(first, second)
    with session_scope(engine) as session:
        rolled, recomputed = _rolled_up(session), _recomputed(session)
        drift = queries.score_bucket_drift(session)
        facet_drift = queries.facet_bucket_drift(session)
    engine.dispose()
    assert rolled == recomputed == Counter({(A, "acme", bucket_of(T0), "positive"): 1})
    assert drift == facet_drift == 0
