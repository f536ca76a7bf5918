"""Score progress: pending queries start late in the posts, yet never miss a post to score."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import delete, select, update

from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.queries.progress import unscored_anywhere
from flarewatch.storage.schema import Post, ScoreProgress
from tests.conftest import T0, make_post

M = "m@1"
STEP = timedelta(minutes=11)  # longer than SETTLE: every advance may use the previous mark


def _score(session, ids: list[int]) -> None:
    rows = [
        {"post_id": i, "label": "neutral", "p_negative": 0.1, "p_neutral": 0.8, "p_positive": 0.1}
        for i in ids
    ]
    queries.save_scores(session, M, rows)


def _pending(session) -> list[int]:
    return [i for i, _ in queries.unscored_posts(session, M, limit=100_000)]


def _everywhere(session) -> list[int]:
    stmt = select(Post.id).where(unscored_anywhere(M)).order_by(Post.id)
    return list(session.scalars(stmt))


def test_progress__pending_posts_equal_a_scan_from_the_first_post(engine):
    rng = random.Random(3)
    posts = [make_post(i, f"text {i}", author=f"u{i % 9}", minutes=i) for i in range(300)]
    now, highest = T0, 0
    for step in range(12):
        with session_scope(engine) as session:
            queries.save_posts(session, posts[step * 25 : (step + 1) * 25])
            pending = _pending(session)
            # A third of the newest stays for the next round, as scorers fall behind collectors.
            newest = set(pending[-25:])
            _score(session, [i for i in pending if i not in newest or rng.random() < 2 / 3])
            if step % 3 == 2:  # new text drops the scores of old posts: they are pending again
                edited = rng.sample(posts[: step * 25], 10)
                queries.save_posts(session, [replace(p, text=p.text + " (edited)") for p in edited])
        now += STEP
        with session_scope(engine) as session:
            floor = queries.advance_score_progress(session, M, now=now)
            assert _pending(session) == _everywhere(session)
            assert floor <= min(_everywhere(session), default=floor)
        highest = max(highest, floor)
    assert highest > 100, "the progress never moved: the pending queries still read every post"


def _scored_posts(engine, n: int) -> None:
    with session_scope(engine) as session:
        queries.save_posts(session, [make_post(i, f"text {i}", minutes=i) for i in range(n)])
        _score(session, _pending(session))


def _late_post(engine, post_id: int) -> None:
    """A post whose id was taken before others but that is stored only now."""
    with session_scope(engine) as session:
        queries.save_posts(session, [make_post(999, "late")])
        new = session.scalar(select(Post.id).where(Post.external_id == "999"))
        session.execute(update(Post).where(Post.id == new).values(id=post_id))


def test_progress__a_post_stored_late_below_a_fresh_mark_is_still_found(engine):
    _scored_posts(engine, 10)
    with session_scope(engine) as session:
        session.execute(delete(Post).where(Post.id == 7))  # leaves id 7 free
        assert queries.advance_score_progress(session, M, now=T0) == 0  # the mark is taken
    _late_post(engine, 7)  # committed five minutes after the mark
    with session_scope(engine) as session:
        assert queries.advance_score_progress(session, M, now=T0 + timedelta(minutes=5)) == 0
        assert queries.advance_score_progress(session, M, now=T0 + STEP) == 7
        assert _pending(session) == [7]


def test_progress__the_hourly_sweep_finds_what_came_in_below_it(engine):
    _scored_posts(engine, 10)
    with session_scope(engine) as session:
        session.execute(delete(Post).where(Post.id == 7))
        queries.advance_score_progress(session, M, now=T0)
        assert queries.advance_score_progress(session, M, now=T0 + STEP) == 11
    _late_post(engine, 7)  # a transaction that stayed open longer than SETTLE
    with session_scope(engine) as session:
        assert queries.advance_score_progress(session, M, now=T0 + 2 * STEP) == 11
        assert _pending(session) == []
        assert queries.advance_score_progress(session, M, now=T0 + timedelta(hours=1, minutes=1))
        assert _pending(session) == [7]
        assert session.scalar(select(ScoreProgress.scored_below)) == 7
