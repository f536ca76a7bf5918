"""The recording harness itself: unplayed recordings fail, and cassettes hold no secrets."""

from __future__ import annotations

import pytest

from flarewatch.collectors import twitter
from flarewatch.collectors.watch import scrub
from tests.collectors.recording import CASSETTES, FAKE_ENV, recording, scrub_body
from tests.collectors.test_sources import WATCH


def test_recording__response_never_played__fails(env, retrier):
    collector = twitter.XCollector(twitter.make_client(env), retry=retrier)
    with pytest.raises(AssertionError, match="2 recorded response"), recording("x_search"):
        next(iter(collector.fetch(WATCH.queries("x")[0].key)))


def test_recording__nothing_played__fails():
    with (
        pytest.raises(AssertionError, match="no recorded response was played"),
        recording("x_search"),
    ):
        pass


def test_cassettes__hold_placeholders_not_secrets():
    files = sorted(CASSETTES.glob("*.yaml"))
    assert len(files) >= 5
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "Bearer " not in text, path.name
        for value in FAKE_ENV.values():
            if "fake" in value:
                assert value not in text, path.name
        assert "<AUTHORIZATION>" in text


def test_scrub_body__tokens_and_passwords_become_placeholders():
    body = b'{"access_token": "abc", "nested": {"password": "hunter2", "accessJwt": "x.y.z"}}'
    scrubbed = scrub_body(body)
    assert b"abc" not in scrubbed and b"hunter2" not in scrubbed and b"x.y.z" not in scrubbed
    assert b"<ACCESS_TOKEN>" in scrubbed and b"<PASSWORD>" in scrubbed


def test_scrub__error_text_never_carries_a_credential():
    env = {"X_BEARER_TOKEN": "s3cr3t-token", "HOME": "/root"}
    assert scrub("401 for s3cr3t-token at /root", env) == "401 for <X_BEARER_TOKEN> at /root"
