"""One normalisation for every platform: a table of raw posts and what the model sees."""

from __future__ import annotations

import pytest

from flarewatch.models.text import decode_escapes, preprocess, preprocess_all

CASES = [
    # mentions: X, Bluesky-style handles and Mastodon's @user@host
    ("@Delta_Air you lost my bag", "@user you lost my bag"),
    ("@ops@fosstodon.org is it down?", "@user is it down?"),
    ("mail me at a@b.com", "mail me at a@b.com"),
    # links
    ("see https://t.co/abc123 and www.example.com/x", "see http and http"),
    # GoEmotions-style masks
    ("[NAME] said the site is down", "@user said the site is down"),
    ("my [RELIGION] friends", "my religion friends"),
    ("[link] stays", "[link] stays"),
    # HTML: tags from Mastodon content dropped, entities unescaped exactly once
    ("<p>login broken</p><p>again</p>", "login broken again"),
    ("line<br/>break", "line break"),
    ("fish &amp; chips &lt;3", "fish & chips <3"),
    ("&amp;lt;p&amp;gt; is text", "&lt;p&gt; is text"),
    ("&lt;p&gt;shown&lt;/p&gt;", "<p>shown</p>"),
    # emoji as words; private-use glyphs and BOMs dropped
    ("worst 😡😡 day", "worst enraged face enraged face day"),
    ("new \uf8ff phone \ufeff", "new phone"),
    # literal escapes
    (r"I\u2019m fine", "I’m fine"),
    (r"so mad \ud83d\ude21", "so mad enraged face"),
    (r"\xEF\xBB\xBFhello \xE2\x80\x99", "hello ’"),
    # whitespace
    ("  spaced\n\tout  ", "spaced out"),
]


@pytest.mark.parametrize(("raw", "clean"), CASES)
def test_preprocess__every_platform(raw, clean):
    assert preprocess(raw) == clean


@pytest.mark.parametrize(
    ("warning", "text", "clean"),
    [
        ("CW: outage", "<p>everything is down</p>", "CW: outage: everything is down"),
        ("  ", "plain", "plain"),
        (None, "plain", "plain"),
    ],
)
def test_preprocess__mastodon_content_warning_joined(warning, text, clean):
    assert preprocess(text, content_warning=warning) == clean


def test_preprocess__idempotent_on_clean_text():
    for _, clean in CASES:
        if "&" not in clean and "\\" not in clean and "<" not in clean:
            assert preprocess(clean) == clean


def test_preprocess_all__keeps_order():
    assert preprocess_all(["@a hi", "[NAME] ok"]) == ["@user hi", "@user ok"]


def test_decode_escapes__leaves_plain_text_alone():
    assert decode_escapes("no escapes, just a \\ backslash") == "no escapes, just a \\ backslash"
