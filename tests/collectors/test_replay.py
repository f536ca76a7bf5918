"""Replay import: column mapping, formats, and errors that name the file and row."""

from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner

from flarewatch.cli import cli
from flarewatch.collectors.replay import (
    ReplayCollector,
    ReplayError,
    ReplayOptions,
    parse_mapping,
    read_posts,
)
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope

CSV = (
    "id,body,ts,user,likes\n"
    "1,Login is down again 😡,2026-03-02T10:00:00Z,ann,3\n"
    '2,"multi\nline, quoted",2026-03-02 11:00:00 +0100,bob,\n'
    "3,fine now,1772445600,ann,0\n"
)
MAP = "external_id=id,text=body,created_at=ts,author=user,like_count=likes"


def test_read_posts__csv_mapping_and_time_formats(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text(CSV, encoding="utf-8")
    posts = read_posts(path, ReplayOptions(mapping=parse_mapping(MAP), platform="x"))
    assert [p.external_id for p in posts] == ["1", "2", "3"]
    assert posts[0].text == "Login is down again 😡" and posts[0].like_count == 3
    assert posts[1].text == "multi\nline, quoted"
    assert posts[1].created_at.isoformat() == "2026-03-02T10:00:00+00:00"
    assert posts[2].created_at.isoformat() == "2026-03-02T10:00:00+00:00"
    assert posts[0].author is not None and posts[0].author.handle == "ann"


def test_read_posts__gzipped_jsonl(tmp_path):
    path = tmp_path / "posts.jsonl.gz"
    rows = [
        {"id": i, "text": f"post {i}", "created_at": "2026-03-02T10:00:00+00:00"} for i in range(3)
    ]
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(r) for r in rows) + "\n")
    posts = read_posts(path, ReplayOptions(mapping=parse_mapping("external_id=id")))
    assert [p.text for p in posts] == ["post 0", "post 1", "post 2"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            "id,body,ts,user,likes\n1,ok,2026-03-02T10:00:00Z,a,1\n2,bad,yesterday-ish,a,1\n",
            "row 2: unreadable timestamp",
        ),
        (
            "id,body,ts,user,likes\n1,,2026-03-02T10:00:00Z,a,1\n",
            "row 1: missing text (column 'body')",
        ),
        (
            "id,body,ts,user,likes\n1,ok,2026-03-02T10:00:00Z,a,lots\n",
            "row 1: like_count 'lots' is not a number",
        ),
        ("other,columns\n1,2\n", "header: no column 'body' or 'ts' (found other, columns)"),
        ("id,body\n", "header: no column 'ts' (found id, body)"),
    ],
)
def test_read_posts__bad_row_names_file_row_and_problem(tmp_path, content, problem):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReplayError) as err:
        read_posts(path, ReplayOptions(mapping=parse_mapping(MAP)))
    assert str(path) in str(err.value) and problem in str(err.value)


def test_read_posts__invalid_json_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "created_at": "2026-03-02T10:00:00Z"}\n{"text": oops}\n')
    with pytest.raises(ReplayError, match=r"bad.jsonl: row 2: invalid JSON"):
        read_posts(path)


def test_parse_mapping__rejects_unknown_field():
    with pytest.raises(ReplayError, match="'colour'"):
        parse_mapping("colour=red")


def test_replay_collector__pages_and_cursor(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text(CSV, encoding="utf-8")
    collector = ReplayCollector(path, ReplayOptions(mapping=parse_mapping(MAP)), page_size=2)
    pages = list(collector.fetch())
    assert [len(p.posts) for p in pages] == [2, 1]
    assert list(collector.fetch(since=pages[-1].cursor)) == []


def test_cli_collect_replay__bad_file_keeps_what_was_stored(tmp_path):
    url = f"sqlite:///{tmp_path / 'fw.db'}"
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(CSV, encoding="utf-8")
    bad.write_text("id,body,ts,user,likes\n9,new,2026-03-02T10:00:00Z,c,1\n10,x,not a time,c,1\n")
    runner = CliRunner()
    ok = runner.invoke(cli, ["--database-url", url, "collect", "replay", str(good), "--map", MAP])
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(
        cli, ["--database-url", url, "collect", "replay", str(good), "--map", MAP]
    )
    assert "3 posts read, 0 new" in again.output
    failed = runner.invoke(
        cli, ["--database-url", url, "collect", "replay", str(bad), "--map", MAP]
    )
    assert failed.exit_code == 1
    assert "bad.csv: row 2: unreadable timestamp 'not a time'" in failed.output
    with session_scope(make_engine(url)) as session:
        assert queries.count_posts(session) == 3
