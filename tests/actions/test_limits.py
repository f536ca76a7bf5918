"""Length rules per platform and thread splitting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flarewatch.actions.limits import (
    TooLongError,
    graphemes,
    limit_for,
    mastodon_length,
    split_thread,
    x_length,
)
from flarewatch.actions.templates import TemplateError, render


def test_x_length__urls_count_23_whatever_their_length():
    url = "https://status.acme.example/incidents/2026-03-02/login-errors?utm=1"
    assert x_length(f"See {url}") == 4 + 23
    assert x_length("http://a.io") == 23


def test_x_length__cjk_and_emoji_weigh_two():
    assert x_length("abc") == 3
    assert x_length("日本語") == 6
    assert x_length("👍") == 2
    assert x_length("👩‍👩‍👧‍👦") == 2  # one ZWJ family sequence
    assert x_length("é") == x_length("e\u0301") == 1  # NFC first


def test_graphemes__a_family_emoji_is_one():
    assert graphemes("👩‍👩‍👧‍👦 ok") == 4


def test_mastodon_length__url_23_and_remote_mention_as_local_part():
    assert mastodon_length("hi @sam@hachyderm.io") == len("hi @sam")
    assert mastodon_length("https://example.com/" + "a" * 100) == 23


def test_split_thread__fits_in_one():
    assert split_thread("short update", limit_for("x")) == ["short update"]


def test_split_thread__long_text_becomes_numbered_parts_that_fit():
    text = " ".join(f"word{i}" for i in range(150))
    rule = limit_for("x")
    parts = split_thread(text, rule)
    assert len(parts) > 1
    assert all(rule.measure(p) <= 280 for p in parts)
    assert parts[0].endswith(f"(1/{len(parts)})")
    assert " ".join(p.rsplit(" (", 1)[0] for p in parts) == text


def test_split_thread__statuspage_never_threads_and_mastodon_uses_instance_limit():
    assert split_thread("x" * 5000, limit_for("statuspage")) == ["x" * 5000]
    assert len(split_thread("word " * 120, limit_for("mastodon", mastodon_limit=1000))) == 1
    assert len(split_thread("word " * 120, limit_for("mastodon"))) == 2


def test_limit_check__names_destination_and_unit():
    with pytest.raises(TooLongError, match=r"bluesky: text is 301 graphemes, at most 300"):
        limit_for("bluesky").check("a" * 301)


def test_split_thread__empty_text_is_an_error():
    with pytest.raises(ValueError, match="x: text is empty"):
        split_thread("   ", limit_for("x"))


@given(st.text(min_size=1, max_size=2000).filter(lambda t: t.strip()))
def test_split_thread__every_part_fits_bluesky(text):
    rule = limit_for("bluesky")
    assert all(rule.fits(p) for p in split_thread(text, rule))


def test_render__fills_fields_and_refuses_unknown_ones():
    text = render(
        "We are investigating {affected}. Next update by {next_update}.",
        {"affected": "login", "next_update": "14:30 UTC"},
    )
    assert text == "We are investigating login. Next update by 14:30 UTC."
    with pytest.raises(TemplateError, match="'eta' is unknown"):
        render("Back by {eta}", {})


def test_same_text__ignores_spacing_and_rewritten_links():
    from flarewatch.actions.base import same_text

    sent = "Status:  https://status.acme.example/incidents/42\nmore soon"
    assert same_text(sent, "Status: https://t.co/AbCdEf more soon")
    assert not same_text(sent, "Status: https://t.co/AbCdEf later")
