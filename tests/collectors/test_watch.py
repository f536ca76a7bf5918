"""The watch file: parsing, validation, the queries it yields, and credentials from .env."""

from __future__ import annotations

from pathlib import Path

import pytest

from flarewatch.collectors.cursor import Resume
from flarewatch.collectors.watch import credentials, load_watch, mastodon_token_var, parse_watch
from flarewatch.config import ConfigError

EXAMPLE = Path(__file__).parents[2] / "watch.example.toml"


def test_load_watch__example_file__queries_per_source():
    watch = load_watch(EXAMPLE)
    assert set(watch.sources) == {
        "x", "reddit", "mastodon", "bluesky", "hackernews", "bluesky_stream", "mastodon_stream"
    }  # fmt: skip
    assert [q.key for q in watch.queries("mastodon_stream")] == [
        "#acmedown@mastodon.social",
        "#acmedown@hachyderm.io",
    ]
    assert [q.key for q in watch.queries("bluesky_stream")] == ["acmecloud|acme cloud"]
    assert watch.sources["bluesky_stream"].options["endpoint"].startswith("wss://")
    assert [q.key for q in watch.queries("x")] == [
        '(acmecloud OR "acme cloud" OR @acmecloud OR #acmedown) -is:retweet'
    ]
    assert [q.key for q in watch.queries("reddit")] == [
        'acmecloud OR "acme cloud"',
        "comments:acmecloud|acme cloud",
    ]
    assert "#acmedown@hachyderm.io" in [q.key for q in watch.queries("mastodon")]
    assert [q.key for q in watch.queries("hackernews")] == ["acmecloud", '"acme cloud"']
    assert {q.brand for q in watch.queries("bluesky")} == {"acme"}
    assert watch.sources["x"].interval == 900 and watch.sources["x"].max_pages == 2


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "at least one"),
        ({"brands": [{"terms": ["a"]}]}, "name is required"),
        ({"brands": [{"name": "a", "terms": "a"}]}, "list of strings"),
        ({"brands": [{"name": "a"}], "sources": {"myspace": {}}}, "unknown source"),
    ],
)
def test_parse_watch__invalid__says_what_is_wrong(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_watch(data)


def test_load_watch__missing_file__names_it(tmp_path):
    with pytest.raises(ConfigError, match="watch file not found"):
        load_watch(tmp_path / "nope.toml")


def test_credentials__dotenv_under_environment(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nX_BEARER_TOKEN='from-file'\nexport BLUESKY_HANDLE=me\n")
    creds = credentials({"X_BEARER_TOKEN": "from-env"}, dotenv=str(dotenv))
    assert creds["X_BEARER_TOKEN"] == "from-env" and creds["BLUESKY_HANDLE"] == "me"


def test_mastodon_token_var():
    assert mastodon_token_var("mastodon.social") == "MASTODON_TOKEN_MASTODON_SOCIAL"


def test_resume__round_trip_and_plain_floor():
    state = Resume(floor="10", top="20", page="tok")
    assert Resume.decode(state.encode()) == state
    assert Resume.decode("42") == Resume(floor="42") and Resume.decode(None) == Resume()
