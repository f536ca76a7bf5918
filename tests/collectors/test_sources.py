"""Each live collector against recorded HTTP in its API's documented shape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from flarewatch.collectors import bluesky, mastodon, reddit, twitter
from flarewatch.collectors.hackernews import HNCollector
from flarewatch.collectors.watch import parse_watch
from flarewatch.pipeline.ingest import collect_source
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.schema import Author, Post
from tests.collectors.recording import recording

WATCH = parse_watch(
    {
        "brands": [
            {
                "name": "acme",
                "terms": ["acmecloud"],
                "handles": ["@acmecloud"],
                "hashtags": ["acmedown"],
            }
        ],
        "sources": {
            "x": {},
            "reddit": {"subreddits": ["sysadmin", "devops"]},
            "mastodon": {"instances": ["mastodon.social"]},
            "bluesky": {},
            "hackernews": {},
        },
    }
)


def stored(engine, platform):
    with session_scope(engine) as session:
        return {
            p.external_id: p for p in session.scalars(select(Post).where(Post.platform == platform))
        }


def test_x__two_pages_then_since_id__each_post_once(engine, env, retrier):
    collector = twitter.XCollector(twitter.make_client(env), retry=retrier)
    with recording("x_search"):
        first = collect_source(engine, collector, WATCH.queries("x"))
        second = collect_source(engine, collector, WATCH.queries("x"))
    assert (first.received, first.inserted, first.pages) == (4, 3, 2)  # one post on two pages
    assert (second.received, second.inserted, second.error) == (0, 0, None)
    posts = stored(engine, "x")
    assert sorted(posts) == [f"186500000000000000{i}" for i in (1, 2, 3)]
    top = posts["1865000000000000003"]
    assert top.text.endswith("😡") and top.brand == "acme" and top.language == "en"
    assert (top.like_count, top.repost_count, top.reply_to) == (6, 3, "1864999999999999999")
    assert top.created_at == datetime(2026, 3, 2, 12, 9, tzinfo=UTC)
    assert top.url == "https://x.com/danaops/status/1865000000000000003"
    with session_scope(engine) as session:
        author = session.scalar(select(Author).where(Author.external_id == "2244994945"))
        assert (author.handle, author.followers, author.verified) == ("danaops", 1520, True)
        assert queries.get_cursor(session, "x", WATCH.queries("x")[0].key) == (
            '{"floor": "1865000000000000003"}'
        )


def test_reddit__search_and_comments__only_matching_comments(engine, env, retrier):
    collector = reddit.RedditCollector(
        reddit.make_client(env), ["sysadmin", "devops"], retry=retrier
    )
    queries_ = [q for q in WATCH.queries("reddit")]
    assert [q.key for q in queries_] == ["acmecloud", "comments:acmecloud"]
    queries_[0] = type(queries_[0])("reddit", 'acmecloud OR "acme cloud"', "acme")
    with recording("reddit_search_and_comments"):
        result = collect_source(engine, collector, queries_)
    assert result.error is None
    posts = stored(engine, "reddit")
    assert sorted(posts) == ["t1_kc2", "t3_1b1x", "t3_1b2x"]
    assert posts["t1_kc2"].reply_to == "t3_1b1x"
    assert posts["t3_1b2x"].url == "https://www.reddit.com/r/sysadmin/comments/1b2x/slug/"
    assert posts["t3_1b2x"].text.startswith("acmecloud down?\nOur pipelines")
    assert posts["t3_1b2x"].reply_count == 17


def test_mastodon__hashtag__first_page_then_min_id(engine, env, retrier):
    collector = mastodon.MastodonCollector(
        mastodon.client_factory(env, search=False), retry=retrier
    )
    with recording("mastodon_hashtag"):
        first = collect_source(engine, collector, WATCH.queries("mastodon"))
        second = collect_source(engine, collector, WATCH.queries("mastodon"))
    assert (first.inserted, second.inserted) == (2, 1)
    posts = stored(engine, "mastodon")
    uri = "https://hachyderm.io/users/ops_lee/statuses/113000000000000002"
    assert posts[uri].text == "acme cloud is down & so is our release #acmedown"
    assert posts[uri].url == "https://hachyderm.io/@ops_lee/113000000000000002"
    with session_scope(engine) as session:
        assert queries.get_cursor(session, "mastodon", "#acmedown@mastodon.social") == (
            "113000000000000003"
        )


def test_bluesky__login_and_search_pages(engine, env, retrier):
    with recording("bluesky_search"):
        collector = bluesky.BlueskyCollector(bluesky.login(env), retry=retrier)
        result = collect_source(
            engine, collector, [q for q in WATCH.queries("bluesky") if q.key == "acmecloud"]
        )
    assert (result.inserted, result.pages, result.error) == (3, 2, None)
    posts = stored(engine, "bluesky")
    uri = "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lb3"
    assert posts[uri].url == "https://bsky.app/profile/devon.bsky.social/post/3lb3"
    assert posts[uri].like_count == 9 and posts[uri].language == "en"
    with session_scope(engine) as session:
        assert queries.get_cursor(session, "bluesky", "acmecloud") == (
            '{"floor": "2026-03-02T12:20:00+00:00"}'
        )


def test_hackernews__same_post_on_two_pages__stored_once(engine, retrier):
    collector = HNCollector(retry=retrier, page_size=2)
    with recording("hackernews_pages"):
        result = collect_source(engine, collector, WATCH.queries("hackernews"))
    assert (result.received, result.inserted, result.pages) == (5, 3, 3)
    posts = stored(engine, "hackernews")
    assert sorted(posts) == ["43000010", "43000020", "43000030"]
    assert posts["43000020"].text == "acmecloud's status page is a lie, we're hard down"
    assert posts["43000020"].reply_to == "43000015"
    assert posts["43000010"].like_count == 31


@pytest.mark.parametrize(
    "name, variable",
    [
        ("x", "X_BEARER_TOKEN"),
        ("reddit", "REDDIT_CLIENT_ID"),
        ("bluesky", "BLUESKY_HANDLE"),
    ],
)
def test_make_collector__missing_credential__names_the_variable(name, variable):
    from flarewatch.config import ConfigError
    from flarewatch.pipeline.ingest import make_collector

    with pytest.raises(ConfigError, match=variable):
        make_collector(name, WATCH.sources[name], {})
