"""Incident author rows stay equal to the window's scores, and rank as the pandas ranking does."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import delete

from flarewatch.analysis.outreach import rank_authors
from flarewatch.domain import OutreachFilter, RawAuthor, RawPost
from flarewatch.pipeline.frames import incident_window
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.queries.incident_authors import rebuild_incident_authors
from flarewatch.storage.schema import IncidentAuthor
from tests.conftest import T0

A, B = "m@1", "m@2"
LABELS = ["negative", "negative", "neutral", "positive", "other_language"]
COMPARED = ["author_id", "platform", "handle", "followers", "posts", "negative_posts", "engagement"]


def _post(rng: random.Random, i: int) -> RawPost:
    k = rng.randrange(30)
    platform = ("x", "mastodon")[k % 2]
    return RawPost(
        platform=platform,
        external_id=str(i),
        text=f"post {i}",
        created_at=T0 + timedelta(minutes=rng.randrange(4 * 24 * 60)),
        author=RawAuthor(platform, f"u{k}", handle=f"u{k}", followers=k * 997),
        brand=rng.choice(["acme", "acme", "globex", None]),
        like_count=rng.randrange(30),
        url=f"https://example.org/{i}",
    )


def _score(rng: random.Random, post_id: int) -> dict:
    p = rng.random()
    return {
        "post_id": post_id,
        "label": rng.choice(LABELS),
        "p_negative": p,
        "p_neutral": (1 - p) / 2,
        "p_positive": (1 - p) / 2,
    }


def _score_some(session, rng: random.Random, model: str, share: float = 1.0) -> None:
    ids = [i for i, _ in queries.unscored_posts(session, model, limit=10_000)]
    queries.save_scores(session, model, [_score(rng, i) for i in ids if rng.random() < share])


def _reference(engine, incident_id: int, model: str) -> pd.DataFrame:
    with session_scope(engine) as session:
        record = queries.find_incident(session, incident_id)
    start, end = incident_window(engine, record)
    with session_scope(engine) as session:
        frame = queries.outreach_authors(
            session, model_version=model, brand=record.brand, start=start, end=end
        )
    return frame.sort_values("author_id", ignore_index=True)


def _rolled_up(engine, incident_id: int, model: str) -> pd.DataFrame:
    with session_scope(engine) as session:
        frame = queries.incident_author_activity(session, incident_id, model_version=model)
    return frame.sort_values("author_id", ignore_index=True)


def _assert_same(engine, incident_id: int, model: str) -> None:
    want, got = _reference(engine, incident_id, model), _rolled_up(engine, incident_id, model)
    assert len(want) > 5
    pd.testing.assert_frame_equal(got[COMPARED], want[COMPARED], check_dtype=False)
    assert got["mean_p_negative"].tolist() == pytest.approx(want["mean_p_negative"].tolist())
    assert (got["last_post_at"] == want["last_post_at"]).all()


def _history(engine, rng: random.Random) -> list[int]:
    """Posts scored before and after two incidents open, re-scored, relabelled, edited."""
    posts = [_post(rng, i) for i in range(400)]
    with session_scope(engine) as session:
        queries.save_posts(session, posts[:200])
        _score_some(session, rng, A)
        acme = queries.open_incident(
            session, "acme down", brand="acme", opened_at=T0 + timedelta(days=1)
        )
        every = queries.open_incident(session, "all down", opened_at=T0 + timedelta(days=2))
        ids = [acme.id, every.id]
    with session_scope(engine) as session:
        queries.save_posts(session, posts[200:])
        _score_some(session, rng, A)
        _score_some(session, rng, B, share=0.5)
    with session_scope(engine) as session:
        post_ids = list(range(1, 401))
        again = rng.sample(post_ids, 60)
        queries.save_scores(session, A, [_score(rng, i) for i in again])
        for post_id in rng.sample(post_ids, 40):
            label = rng.choice(["negative", "neutral", "positive"])
            queries.set_label_override(session, post_id, label, labelled_by="test")
    with session_scope(engine) as session:
        # Collected again: new like counts (engagement), a new text for some (scores dropped).
        changed = [replace(p, like_count=p.like_count + 50) for p in rng.sample(posts, 40)]
        edited = [replace(p, text=p.text + " (edited)") for p in rng.sample(posts, 15)]
        queries.save_posts(session, changed + edited)
    return ids


@pytest.mark.parametrize("seed", [1, 2])
def test_incident_authors__equal_the_window_query_through_a_history(engine, seed):
    rng = random.Random(seed)
    acme, every = _history(engine, rng)
    for incident in (acme, every):
        for model in (A, B):
            _assert_same(engine, incident, model)
    with session_scope(engine) as session:
        queries.close_incident(session, acme, resolved_at=T0 + timedelta(days=1, hours=6))
        _score_some(session, rng, A)
    _assert_same(engine, acme, A)
    with session_scope(engine) as session:
        assert queries.incident_author_drift(session) == 0
        session.execute(delete(IncidentAuthor).where(IncidentAuthor.incident_id == every))
        assert queries.incident_author_drift(session) > 0
        rebuild_incident_authors(session, every)
        assert queries.incident_author_drift(session) == 0
    _assert_same(engine, every, A)


def test_ranking_in_sql__same_order_and_priorities_as_pandas(engine):
    rng = random.Random(3)
    acme, _ = _history(engine, rng)
    now = T0 + timedelta(days=3, hours=5)
    with session_scope(engine) as session:
        top = queries.top_incident_authors(
            session,
            acme,
            model_version=A,
            now=now,
            where=OutreachFilter(),
            limit=None,
        )
    want = rank_authors(_reference(engine, acme, A), now)
    assert top["priority"].tolist() == pytest.approx(want["priority"].tolist(), abs=0.051)
    assert top["author_id"].tolist() == want["author_id"].tolist()
    assert top["handle"].tolist() == want["handle"].tolist()


def test_ranking_in_sql__filters_limit_and_counts(engine):
    rng = random.Random(4)
    acme, _ = _history(engine, rng)
    now = T0 + timedelta(days=3)
    with session_scope(engine) as session:
        first = _top(session, acme, now, OutreachFilter(), 3)
        queries.set_outreach(session, acme, int(first["author_id"][0]), status="contacted")
    where = OutreachFilter(statuses=("new",), platforms=("x",), min_priority=20, handle="U1")
    with session_scope(engine) as session:
        everyone = _top(session, acme, now, OutreachFilter(), None)
        some = _top(session, acme, now, where, None)
        counts = queries.incident_author_counts(
            session, acme, model_version=A, now=now, where=where
        )
    assert len(first) == 3 and first["author_id"].tolist() == everyone["author_id"][:3].tolist()
    kept = everyone[
        (everyone["status"] == "new")
        & (everyone["platform"] == "x")
        & (everyone["priority"] >= 20)
        & everyone["handle"].str.contains("u1")
    ]
    assert 0 < len(some) < len(everyone)
    assert some["author_id"].tolist() == kept["author_id"].tolist()
    assert counts == {
        "authors": len(everyone),
        "not_contacted": len(everyone) - 1,
        "matching": len(kept),
        "platforms": ["mastodon", "x"],
    }


def _top(session, incident_id: int, now, where: OutreachFilter, limit: int | None):
    return queries.top_incident_authors(
        session,
        incident_id,
        model_version=A,
        now=now,
        where=where,
        limit=limit,
    )


@pytest.mark.parametrize(
    "where",
    [OutreachFilter(), OutreachFilter(platforms=("mastodon",), min_priority=30)],
    ids=["everyone", "filtered"],
)
def test_ranking_in_sql__a_page_is_the_head_of_the_whole_ranking(engine, where):
    """The first read bounds the second by base priority: it must never drop a top author."""
    rng = random.Random(5)
    acme, _ = _history(engine, rng)
    now = T0 + timedelta(days=2, hours=3)
    with session_scope(engine) as session:
        whole = _top(session, acme, now, where, None)["author_id"].tolist()
        assert len(whole) > 6
        for limit in (1, 2, 5, len(whole) - 1, len(whole) + 3):
            assert _top(session, acme, now, where, limit)["author_id"].tolist() == whole[:limit]
