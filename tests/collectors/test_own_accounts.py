"""The brand's own accounts in the watch file, and their posts collected as ours."""

from __future__ import annotations

import pytest

from flarewatch.collectors import mastodon
from flarewatch.collectors.backoff import Retrier
from flarewatch.collectors.watch import parse_watch
from flarewatch.config import ConfigError
from flarewatch.pipeline.ingest import collect_source
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.actions.reply_recording import recording

OWN = {
    "x": "@acmecloud",
    "mastodon": "acme@mastodon.social",
    "bluesky": "acme.bsky.social",
    "statuspage": "kctbh9vrtdwd",
}


def watch(own=OWN):
    return parse_watch(
        {
            "brands": [{"name": "acme", "terms": ["acmecloud"], "own": own}],
            "sources": {"x": {}, "mastodon": {"instances": []}, "bluesky": {}},
        }
    )


def test_watch__own_accounts_add_a_query_per_platform():
    parsed = watch()
    assert parsed.brands[0].own["statuspage"] == "kctbh9vrtdwd"
    assert [q.key for q in parsed.queries("x")][-1] == "from:acmecloud -is:retweet"
    assert [q.key for q in parsed.queries("mastodon")] == ["from:acme@mastodon.social"]
    assert [q.key for q in parsed.queries("bluesky")][-1] == "from:acme.bsky.social"
    assert {q.own_handle for q in parsed.queries("x")} == {"acmecloud"}


@pytest.mark.parametrize(
    ("own", "message"),
    [
        ({"facebook": "acme"}, "own.facebook: expected an account name"),
        ({"mastodon": "acme"}, "own.mastodon: expected user@instance"),
        ({"x": ""}, "own.x: expected an account name"),
        ("acme", "own must be a table"),
    ],
)
def test_watch__bad_own_accounts_are_named(own, message):
    with pytest.raises(ConfigError, match=message):
        watch(own)


def test_mastodon__own_account_statuses_are_stored_as_ours(engine):
    collector = mastodon.MastodonCollector(
        mastodon.client_factory({}, search=False), retry=Retrier(sleep=lambda s: None)
    )
    with recording("mastodon_own_statuses"):
        result = collect_source(engine, collector, watch().queries("mastodon"))
    assert result.error is None and result.inserted == 1
    with session_scope(engine) as session:
        (post,) = queries.own_posts(session, brand="acme")
    assert post["text"] == "We are investigating login errors."
    assert post["url"] == "https://mastodon.social/@acme/205"
