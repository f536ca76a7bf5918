"""Issue 14: what real API response shapes broke, each pinned on a recording of that shape."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import pytest
import responses
from click.testing import CliRunner
from mastodon import Mastodon
from sqlalchemy import select

from flarewatch.cli import cli
from flarewatch.collectors import mastodon, reddit, twitter
from flarewatch.collectors.watch import Query, parse_watch
from flarewatch.pipeline.ingest import CollectorBug, collect_source
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.schema import Author
from tests.collectors.build_cassettes import LONG_TEXT, SINCE_ID_TOO_OLD, TWEET_3, X_WINDOW_START
from tests.collectors.conftest import NOW
from tests.collectors.recording import recording
from tests.collectors.test_faults import ONE_TWEET, SEARCH, health
from tests.collectors.test_sources import WATCH, stored

X_QUERIES = WATCH.queries("x")


def x_collector(env, retrier):
    return twitter.XCollector(twitter.make_client(env), retry=retrier, clock=lambda: NOW)


def test_x__entities_long_posts_quotes__stored_whole_and_unescaped_once(engine, env, retrier):
    with recording("x_entities_notes_quotes"):
        first = collect_source(engine, x_collector(env, retrier), X_QUERIES)
        second = collect_source(engine, x_collector(env, retrier), X_QUERIES)
    assert (first.inserted, second.inserted, second.error) == (3, 0, None)
    posts = stored(engine, "x")
    escaped = posts["1865000000000000004"]
    assert escaped.text == "acmecloud: NYC < London today, AT&T > us. Typed literally: &lt;3"
    assert posts["1865000000000000005"].text == LONG_TEXT and len(LONG_TEXT) > 280
    quote = posts["1865000000000000006"]
    assert quote.quote_of == "1864000000000000001"
    assert quote.raw["quoted"]["text"] == (
        "Scheduled maintenance on acmecloud tonight, no impact expected & no downtime."
    )


def test_x__since_id_older_than_7_days__falls_back_to_window_start(engine, env, retrier, caplog):
    key = X_QUERIES[0].key
    with session_scope(engine) as session:
        queries.set_cursor(session, "x", key, f'{{"floor": "{TWEET_3["id"]}"}}')
    with caplog.at_level(logging.WARNING), recording("x_since_id_too_old"):
        first = collect_source(engine, x_collector(env, retrier), X_QUERIES)
        second = collect_source(engine, x_collector(env, retrier), X_QUERIES)
    assert (first.error, first.inserted, second.error) == (None, 1, None)
    assert health(engine)["x"]["consecutive_failures"] == 0
    assert "searching from 2026-02-23T12:05:00+00:00" in caplog.text
    with session_scope(engine) as session:
        assert queries.get_cursor(session, "x", key) == '{"floor": "1865000000000000004"}'


def reddit_collector(env, retrier):
    return reddit.RedditCollector(reddit.make_client(env), ["sysadmin", "devops"], retry=retrier)


def test_reddit__listing_shapes__no_lazy_fetch_removed_marked_own_replies(engine, env, retrier):
    queries_ = [Query("reddit", "acmecloud", "acme"), Query("reddit", "comments:acmecloud", "acme")]
    with recording("reddit_real_shapes") as cassette:
        result = collect_source(engine, reddit_collector(env, retrier), queries_)
    # token, search, comments: no request per post without author_fullname
    assert (result.error, cassette.play_count) == (None, 3)
    posts = stored(engine, "reddit")
    assert sorted(posts) == ["t1_kc3", "t1_kc5", "t3_1b3x", "t3_1b4x"]
    removed = posts["t3_1b3x"]
    assert (removed.text, removed.removed) == ("acmecloud billing ate our credits", True)
    assert posts["t3_1b4x"].author_id is None and not posts["t3_1b4x"].removed
    assert posts["t3_1b4x"].reply_count == 17  # a submission's own comment count
    assert posts["t1_kc3"].reply_count == 1  # not the thread's 57
    assert posts["t1_kc5"].reply_count == 0
    assert posts["t1_kc5"].url == "https://www.reddit.com/r/devops/comments/1b1x/_/kc5/"


def masto_collector(env, retrier, *, search=False):
    return mastodon.MastodonCollector(mastodon.client_factory(env, search=search), retry=retrier)


def test_mastodon__cw_boost_local_acct_and_parent_uris(engine, env, retrier):
    with recording("mastodon_real_shapes") as cassette:
        result = collect_source(engine, masto_collector(env, retrier), WATCH.queries("mastodon"))
    assert (result.error, cassette.play_count) == (None, 2)
    posts = stored(engine, "mastodon")
    parent = "https://mastodon.social/users/halcy/statuses/113100000000000001"
    cw = posts["https://mastodon.social/users/halcy/statuses/113100000000000002"]
    assert cw.text == (
        "CW: acmecloud outage rant\n\nthe whole cluster is gone and so is our weekend #acmedown"
    )
    assert cw.reply_to == parent
    far = posts["https://hachyderm.io/users/ops_lee/statuses/113000000000000004"]
    assert far.reply_to == "https://infosec.exchange/users/acmestatus/statuses/111"
    # The boost is stored as the original it amplifies, not as a post of the booster.
    original = posts["https://hachyderm.io/users/ops_lee/statuses/113000000000000005"]
    assert original.text == "acmecloud postmortem is up #acmedown" and original.repost_count == 5
    assert original.raw["boosted_by"] == "halcy@mastodon.social"
    assert not any(uri.endswith("/activity") for uri in posts)
    with session_scope(engine) as session:
        handles = set(session.scalars(select(Author.handle).where(Author.platform == "mastodon")))
    assert handles == {"halcy@mastodon.social", "ops_lee@hachyderm.io"}


def test_mastodon__search_while_instance_503s__one_check_per_try_then_recovers(
    engine, env, retrier
):
    env = {**env, "MASTODON_TOKEN_MASTODON_SOCIAL": "fake-mastodon-token"}
    queries_ = [Query("mastodon", "acmecloud@mastodon.social", "acme")]
    with recording("mastodon_search_outage") as cassette:
        failed = collect_source(engine, masto_collector(env, retrier, search=True), queries_)
        assert cassette.play_count == 4  # one request per try, no recursion storm
        rerun = collect_source(engine, masto_collector(env, retrier, search=True), queries_)
    assert failed.error.startswith("TransientError: mastodon: MastodonServiceUnavailableError")
    assert len(retrier.slept) == 3
    assert (rerun.error, rerun.inserted) == (None, 1)
    assert health(engine)["mastodon"]["consecutive_failures"] == 0


@responses.activate
def test_mastodon_py__unknown_version_and_instance_down__recurses():
    """Pins the library bug the up-front check avoids; if this fails, Mastodon.py fixed it."""
    for path in ("v1/instance/", "v2/instance/"):
        responses.get(f"https://mastodon.example/api/{path}", status=503, json={})
    client = Mastodon(api_base_url="https://mastodon.example", version_check_mode="none")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)
    try:
        with pytest.raises(RecursionError):
            client.search_v2("acmecloud", result_type="statuses", min_id="1")
    finally:
        sys.setrecursionlimit(limit)
    assert len(responses.calls) > 50


CLI_WATCH = """
[[brands]]
name = "acme"
terms = ["acmecloud"]

[sources.hackernews]
"""


def test_cli_collect__collector_bug__traceback_not_one_line(tmp_path, monkeypatch):
    def broken(hit):
        return hit["created_at"]["no such key"]

    monkeypatch.setattr("flarewatch.collectors.hackernews.hit_to_post", broken)
    watch = tmp_path / "watch.toml"
    watch.write_text(CLI_WATCH, encoding="utf-8")
    env = {
        "FLAREWATCH_WATCH_FILE": str(watch),
        "FLAREWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'fw.db'}",
    }
    with recording("hackernews_cli"):
        result = CliRunner().invoke(cli, ["collect", "hackernews"], env=env)
    assert result.exit_code == 1
    assert isinstance(result.exception, CollectorBug)
    assert isinstance(result.exception.__cause__, TypeError | KeyError)
    assert "Error:" not in result.output


def test_cli__key_error_in_a_command__not_a_user_error(tmp_path, monkeypatch):
    def read_posts(path, opts):
        raise KeyError("created_at")

    monkeypatch.setattr("flarewatch.api.collect.read_posts", read_posts)
    env = {"FLAREWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'fw.db'}"}
    result = CliRunner().invoke(cli, ["collect", "replay", str(tmp_path / "x.csv")], env=env)
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)
    assert "Error: 'created_at'" not in result.output


def test_x__parse_time_is_utc():
    post = twitter.tweet_to_post(
        {"id": "1", "text": "a &amp;amp; b", "created_at": "2026-03-02T12:00:00.000Z"}, {}
    )
    assert post.created_at == datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert post.text == "a &amp; b"  # once, not twice


def test_watch__exclude_terms__in_queries_and_matcher():
    watch = parse_watch(
        {
            "brands": [{"name": "apple", "terms": ["apple"], "exclude": ["apple pie"]}],
            "sources": {"x": {}, "reddit": {}},
        }
    )
    assert [q.key for q in watch.queries("x")] == ['(apple) -"apple pie" -is:retweet']
    search, comments = watch.queries("reddit")
    assert search.key == '(apple) NOT "apple pie"'
    assert comments.key == "comments:apple|-apple pie"
    assert comments.matcher.excluded("best apple pie recipe")
    assert not comments.matcher.excluded("apple pie, and my Apple watch is dead")


@responses.activate(assert_all_requests_are_fired=True)
def test_x__since_id_too_old_mid_sweep__stale_page_token_dropped(engine, env, retrier):
    key = X_QUERIES[0].key
    cursor = f'{{"floor": "{TWEET_3["id"]}", "page": "stale-token", "top": "{TWEET_3["id"]}"}}'
    with session_scope(engine) as session:
        queries.set_cursor(session, "x", key, cursor)
    responses.get(SEARCH, status=400, json=SINCE_ID_TOO_OLD)
    responses.get(SEARCH, json=ONE_TWEET)
    result = collect_source(engine, x_collector(env, retrier), X_QUERIES)
    assert (result.error, result.inserted) == (None, 1)
    first, second = (call.request.params for call in responses.calls)
    assert first["since_id"] == TWEET_3["id"] and first["next_token"] == "stale-token"
    assert second["start_time"] == X_WINDOW_START
    assert "since_id" not in second and "next_token" not in second
