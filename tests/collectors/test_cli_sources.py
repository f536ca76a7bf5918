"""`flarewatch collect SOURCE` twice on recordings: exact fields stored once, nothing new after."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from flarewatch.cli import cli
from flarewatch.storage.engine import make_engine, session_scope
from flarewatch.storage.schema import Author, Post
from tests.collectors.build_cassettes import LONG_TEXT
from tests.collectors.recording import FAKE_ENV, recording

WATCH = """
[[brands]]
name = "acme"
terms = ["acmecloud"]
handles = ["acmecloud"]
hashtags = ["acmedown"]

[sources.x]
[sources.reddit]
subreddits = ["sysadmin", "devops"]
[sources.mastodon]
instances = ["mastodon.social"]
[sources.bluesky]
[sources.hackernews]
"""


def collect_twice(tmp_path, source: str) -> tuple[list[str], dict[str, Post], dict[int, str]]:
    watch = tmp_path / "watch.toml"
    watch.write_text(WATCH, encoding="utf-8")
    env = {
        **FAKE_ENV,
        "FLAREWATCH_WATCH_FILE": str(watch),
        "FLAREWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'fw.db'}",
    }
    outputs = []
    with recording(f"cli_{source}"):
        for _ in range(2):
            result = CliRunner().invoke(cli, ["collect", source], env=env, catch_exceptions=False)
            assert result.exit_code == 0, result.output
            outputs.append(result.output.strip())
    engine = make_engine(env["FLAREWATCH_DATABASE_URL"])
    with session_scope(engine) as session:
        posts = {p.external_id: p for p in session.scalars(select(Post))}
        handles = {a.id: a.handle for a in session.scalars(select(Author))}
        session.expunge_all()
    engine.dispose()
    return outputs, posts, handles


@pytest.mark.parametrize(
    "source, first",
    [
        ("x", "x: 3 new, 3 fetched, 1 pages"),
        ("reddit", "reddit: 4 new, 4 fetched, 2 pages"),
        ("mastodon", "mastodon: 4 new, 4 fetched, 1 pages"),
        ("bluesky", "bluesky: 3 new, 3 fetched, 3 pages"),
        ("hackernews", "hackernews: 3 new, 3 fetched, 1 pages"),
    ],
)
def test_cli_collect__twice__second_run_stores_nothing_new(tmp_path, source, first):
    outputs, posts, _ = collect_twice(tmp_path, source)
    assert outputs[0] == first
    assert outputs[1].startswith(f"{source}: 0 new")
    assert all(p.created_at.tzinfo is not None for p in posts.values())


def test_cli_collect_x__exact_text_time_and_quote(tmp_path):
    _, posts, handles = collect_twice(tmp_path, "x")
    escaped = posts["1865000000000000004"]
    assert escaped.text == "acmecloud: NYC < London today, AT&T > us. Typed literally: &lt;3"
    assert escaped.created_at == datetime(2026, 3, 2, 12, 20, tzinfo=UTC)
    assert handles[escaped.author_id] == "samsre"
    assert posts["1865000000000000005"].text == LONG_TEXT
    assert posts["1865000000000000006"].quote_of == "1864000000000000001"


def test_cli_collect_reddit__removed_replies_and_permalinks(tmp_path):
    _, posts, handles = collect_twice(tmp_path, "reddit")
    assert posts["t3_1b3x"].removed and posts["t3_1b3x"].text == "acmecloud billing ate our credits"
    comment = posts["t1_kc3"]
    assert (comment.reply_count, comment.reply_to) == (1, "t3_1b1x")
    assert handles[comment.author_id] == "k8s_anna"
    assert comment.created_at == datetime(2026, 3, 2, 12, 15, 50, tzinfo=UTC)


def test_cli_collect_mastodon__acct_at_instance_and_parent_uris(tmp_path):
    _, posts, handles = collect_twice(tmp_path, "mastodon")
    cw = posts["https://mastodon.social/users/halcy/statuses/113100000000000002"]
    assert handles[cw.author_id] == "halcy@mastodon.social"
    assert cw.reply_to == "https://mastodon.social/users/halcy/statuses/113100000000000001"
    assert cw.reply_to in posts  # the reply key joins to the stored parent
    assert cw.text.startswith("CW: acmecloud outage rant\n\n")
    assert cw.created_at == datetime(2026, 3, 2, 12, 2, tzinfo=UTC)
