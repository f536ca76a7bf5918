"""Posts in languages the model is not trusted on are stored as such and left out of rates."""

from __future__ import annotations

import dataclasses

import pytest

from flarewatch import api
from flarewatch.models.language import is_covered, parse_languages
from flarewatch.pipeline.score import score_pending
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import make_post
from tests.helpers.keyword_scorer import KeywordScorer

FRENCH = "Le service est en panne depuis ce matin, c'est vraiment inadmissible"
SPANISH_TAGGED = "the app is down again"  # tagged Spanish by the platform: the tag wins


def _seed(engine) -> None:
    posts = [
        make_post(1, "The app is down again, worst outage this year", author="ann"),
        make_post(2, FRENCH, author="marie", minutes=5),
        dataclasses.replace(make_post(3, SPANISH_TAGGED, author="juan", minutes=7), language="es"),
        make_post(4, "ok", author="bob", minutes=9),  # too short to tell: scored
    ]
    with session_scope(engine) as session:
        queries.save_posts(session, posts)


def _labels(engine, version: str) -> dict[str, str]:
    frame = api.posts(engine, brand="acme", model_version=version)
    return dict(zip(frame["handle"], frame["label"], strict=True))


def test_score_pending__other_languages_are_marked_not_scored(engine):
    _seed(engine)
    scorer = KeywordScorer()
    assert score_pending(engine, scorer) == 4
    assert scorer.texts_seen == 2
    assert _labels(engine, scorer.version) == {
        "ann": "negative",
        "marie": "other_language",
        "juan": "other_language",
        "bob": "neutral",
    }
    with session_scope(engine) as session:
        assert queries.post_languages(session, [2, 3]) == {2: "fr", 3: "es"}
        assert queries.count_unscored(session, scorer.version) == 0


def test_timeline__other_language_posts_shown_apart_and_left_out_of_share(engine):
    _seed(engine)
    scorer = KeywordScorer()
    score_pending(engine, scorer)
    frame = api.timeline(engine, brand="acme", bucket_minutes=60, model_version=scorer.version)
    row = frame.iloc[0]
    assert (row["other_language"], row["scored"], row["total"]) == (2, 2, 4)
    assert row["negative_share"] == 0.5
    with session_scope(engine) as session:
        rows = queries.outreach_authors(session, model_version=scorer.version, min_negative=0)
    assert set(rows["handle"]) == {"ann", "bob"}


def test_multilingual_model__trusted_on_any_language(engine):
    _seed(engine)
    scorer = KeywordScorer()
    scorer.languages = parse_languages("*")
    score_pending(engine, scorer)
    assert "other_language" not in _labels(engine, scorer.version).values()


def test_parse_languages__codes_star_and_empty():
    assert parse_languages("en, ES") == ("en", "es")
    assert is_covered("de", parse_languages("*"))
    assert not is_covered("de", parse_languages("en"))
    assert is_covered(None, parse_languages("en"))
    with pytest.raises(ValueError, match="model_languages"):
        parse_languages(" , ")
