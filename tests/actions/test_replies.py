"""Reply templates, length rules and the rate limiter (a fake clock: no real sleeping)."""

from __future__ import annotations

import pytest

from flarewatch.actions.replies import (
    DEFAULT_TEMPLATES,
    RateLimiter,
    TemplateError,
    check_template,
    draft_error,
    parse_spacing,
    render_reply,
)
from tests.api.test_replies import NoSleep


def test_render_reply__fills_known_placeholders():
    text = render_reply(
        "@{handle}: {incident_title} ({next_update})",
        {"handle": "ann", "incident_title": "Login outage", "next_update": "13:00"},
    )
    assert text == "@ann: Login outage (13:00)"
    for template in DEFAULT_TEMPLATES.values():
        check_template(template)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("hi {name}", r"unknown placeholder \{name\}"),
        ("hi {handle.upper}", r"unknown placeholder \{handle.upper\}"),
        ("hi {handle!r}", r"unknown placeholder \{handle\}"),
        ("hi {0}", r"unknown placeholder \{0\}"),
        ("hi {handle", "reply template: "),
        ("   ", "empty"),
    ],
)
def test_check_template__refuses_before_sending(template, message):
    with pytest.raises(TemplateError, match=message):
        check_template(template)


def test_draft_error__platform_lengths():
    assert draft_error("x", "a" * 280) is None
    assert draft_error("x", "a" * 281) == "reply is 281 characters, x allows 280"
    assert draft_error("bluesky", "a" * 301) == "reply is 301 characters, bluesky allows 300"
    assert draft_error("hackernews", "hi") == "replies on hackernews are not supported"


def test_rate_limiter__spacing_per_platform_and_cap_per_minute():
    fake = NoSleep()
    limiter = RateLimiter(3, {"x": 10.0, "bluesky": 0.0}, clock=fake.clock, sleep=fake.sleep)
    for platform in ("x", "bluesky", "x", "bluesky"):
        limiter.wait(platform)
    # x waits 10 s after its first reply; the fourth reply waits for the minute to pass.
    assert fake.slept == [10.0, 50.0]
    assert fake.now == 60.0
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(0)


def test_parse_spacing__overrides_defaults_and_names_bad_parts():
    spacing = parse_spacing("mastodon=0, x=20")
    assert (spacing["mastodon"], spacing["x"], spacing["bluesky"]) == (0.0, 20.0, 3.0)
    for bad in ("mastodon", "x=soon", "myspace=1", "x=-1"):
        with pytest.raises(ValueError, match=f"reply_spacing {bad!r}"):
            parse_spacing(bad)
