"""Distinctive terms of one group of posts against another."""

from __future__ import annotations

from flarewatch.analysis.terms import TERM_COLUMNS, distinctive_terms

BACKGROUND = ["flight was fine today", "nice crew on my flight", "flight on time, thanks"] * 5
FOCUS = [
    "@acme my bag is lost again http://t.co/x",
    "lost bag, no answer from @acme",
    "still no bag #lostbag 2015",
    "flight fine but bag lost",
]


def test_distinctive_terms__ranks_focus_words_first():
    terms = distinctive_terms(FOCUS, BACKGROUND, n=3, min_count=2, ngram_range=(1, 1))
    assert list(terms.columns) == TERM_COLUMNS
    assert set(terms["term"]) == {"bag", "lost"} and terms["z"].is_monotonic_decreasing
    assert terms.loc[terms["term"] == "bag", "focus_count"].item() == 4


def test_distinctive_terms__drops_handles_links_hashtags_and_numbers():
    terms = distinctive_terms(FOCUS, BACKGROUND, n=100, min_count=1)
    assert not {"acme", "http", "co", "lostbag", "2015"} & set(terms["term"])


def test_distinctive_terms__no_focus_texts():
    terms = distinctive_terms([], BACKGROUND)
    assert terms.empty and list(terms.columns) == TERM_COLUMNS
