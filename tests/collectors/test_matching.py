"""The one brand matcher: whole words and phrases, any case and script, hashtags, handles, excludes."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from flarewatch.collectors.base import Page, RawPost
from flarewatch.collectors.replay import ReplayCollector
from flarewatch.collectors.watch import parse_watch
from flarewatch.matching import UNSPACED_SCRIPTS, Matcher
from flarewatch.pipeline.ingest import collect_source
from flarewatch.storage.engine import session_scope
from flarewatch.storage.schema import Post

AWS = Matcher(terms=("aws",))
APPLE = Matcher(terms=("apple",), exclude=("apple pie",))
ACME = Matcher(terms=("acme cloud", "acmecloud"), handles=("acmecloud",), hashtags=("acmedown",))


@pytest.mark.parametrize(
    "matcher, text, expected",
    [
        # substrings of other words never match
        (AWS, "new laws on data", False),
        (AWS, "awesome, awsome", False),
        (Matcher(terms=("kakapo",)), "kakaportrait of a parrot", False),
        (Matcher(terms=("apple",)), "pineapple pizza", False),
        (AWS, "snake_aws_case", False),
        # whole words, any case, with punctuation around
        (AWS, "AWS is down", True),
        (AWS, "is it aws?", True),
        (AWS, "(aws) us-east-1", True),
        (AWS, "aws's status page", True),
        (AWS, "aws-sdk broke", True),
        (AWS, "“AWS” again…", True),
        # phrases, across any run of spaces or a line break
        (ACME, "Acme   Cloud 502s", True),
        (ACME, "acme\ncloud is flaky", True),
        (ACME, "acme clouds are pretty", False),
        (ACME, "acme is fine", False),
        # hashtags and mentions
        (AWS, "#AWS outage", True),
        (AWS, "@aws fix it", True),
        (AWS, "#awsome", False),
        (ACME, "thanks @AcmeCloud", True),
        (ACME, "#AcmeDown again", True),
        (ACME, "#acmedowntime", False),
        (ACME, "me@acmecloudfan.example", False),
        (Matcher(handles=("acmecloud",)), "acmecloud without the at", False),
        # Unicode: case folding, compatibility forms, non-Latin scripts and word characters
        (AWS, "ＡＷＳ障害", True),  # full-width letters, then a script without spaces
        (AWS, "AWS가 다운됐어요", True),
        (Matcher(terms=("障害",)), "AWSの大規模障害です", True),
        (Matcher(terms=("acme",)), "İacme", False),  # folds to i + combining dot + acme
        (Matcher(terms=("straße",)), "STRASSE gesperrt", True),
        (Matcher(terms=("café",)), "Cafe\u0301 closed", True),  # decomposed é
        (Matcher(terms=("café",)), "cafés closed", False),
        (Matcher(terms=("яндекс",)), "Яндекс лежит", True),
        (Matcher(terms=("яндекс",)), "яндексы", False),
        (Matcher(terms=("at&t",)), "AT&T outage", True),
        # excludes: only mentions outside an exclude phrase count
        (APPLE, "grandma's apple pie", False),
        (APPLE, "Apple Pie recipe", False),
        (APPLE, "apple pie, and iCloud on my Apple watch is dead", True),
        (APPLE, "apple is down", True),
        # nothing to match
        (Matcher(), "anything", False),
    ],
)
def test_matcher__table(matcher, text, expected):
    assert matcher.matches(text) is expected


def test_matcher__excluded_only_when_an_exclude_is_all_there_is():
    assert APPLE.excluded("apple pie recipe")
    assert not APPLE.excluded("apple is down")
    assert not APPLE.excluded("a post a search matched on its link only")


def test_matcher__spec_round_trip():
    matcher = Matcher(terms=("apple", "apple music"), exclude=("apple pie",))
    assert matcher.spec() == "apple|apple music|-apple pie"
    assert Matcher.from_spec(matcher.spec()) == matcher


def _spaced_letter(char: str) -> bool:
    folded = unicodedata.normalize("NFKC", char).casefold()
    return not unicodedata.name(char, "").startswith(UNSPACED_SCRIPTS) and all(
        c.isalnum() or unicodedata.category(c).startswith("M") for c in folded
    )


SPACED_LETTERS = st.characters(categories=["L", "N", "Mn"]).filter(_spaced_letter)


@given(st.text(alphabet=SPACED_LETTERS, min_size=1))
def test_matcher__term_inside_a_longer_word__never_matches(other):
    """In scripts that separate words by spaces, a letter next to the term makes another word."""
    matcher = Matcher(terms=("acme",))
    assert not matcher.matches(other + "acme") and not matcher.matches("acme" + other)
    assert matcher.matches(f"{other} acme!")


def test_replay__query_terms_use_the_matcher(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(
        '{"external_id": "1", "text": "new laws", "created_at": "2026-03-02T12:00:00Z"}\n'
        '{"external_id": "2", "text": "AWS down", "created_at": "2026-03-02T12:01:00Z"}\n',
        encoding="utf-8",
    )
    pages = list(ReplayCollector(path).fetch("aws"))
    assert [p.external_id for page in pages for p in page.posts] == ["2"]


class _OnePage:
    """A collector whose search returned a post about pie and one about the brand."""

    source = "hackernews"

    def fetch(self, query, since=None):
        texts = ["my grandma's apple pie", "apple pie, and the Apple store is down"]
        yield Page(
            [
                RawPost("hackernews", str(i), text, datetime(2026, 3, 2, tzinfo=UTC))
                for i, text in enumerate(texts)
            ],
            "cursor",
        )


def test_collect_query__post_mentioning_only_an_exclude__not_saved(engine):
    watch = parse_watch(
        {
            "brands": [{"name": "apple", "terms": ["apple"], "exclude": ["apple pie"]}],
            "sources": {"hackernews": {}},
        }
    )
    result = collect_source(engine, _OnePage(), watch.queries("hackernews"))
    assert (result.received, result.inserted) == (1, 1)
    with session_scope(engine) as session:
        assert session.scalars(select(Post.text)).all() == [
            "apple pie, and the Apple store is down"
        ]
