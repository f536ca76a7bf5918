"""Property tests: any text survives a save and load; malformed replay rows fail clearly."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flarewatch.cli import cli
from flarewatch.collectors.replay import FIELDS, ReplayError, read_posts
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope
from flarewatch.storage.schema import Post
from tests.conftest import make_post

FIXTURE_OK = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
RTL_AND_EMOJI = "مرحبا بالعالم \u202eשלום\u202c 😡🔥👩🏽‍💻 "


def _stored_texts(engine) -> dict[int, str]:
    with session_scope(engine) as s:
        return dict(queries.unscored_posts(s, "never", limit=10_000))


@FIXTURE_OK
@given(text=st.text())
@example(text="")
@example(text="a\x00b\x00")
@example(text=RTL_AND_EMOJI)
def test_save_posts__any_text_round_trips(engine, text):
    with session_scope(engine) as s:
        before = queries.count_posts(s)
        queries.save_posts(s, [make_post(before, text)])
    stored = _stored_texts(engine)
    # NUL never means anything in a post and PostgreSQL text cannot hold it: it is dropped.
    assert stored[max(stored)] == text.replace("\x00", "")


@pytest.mark.parametrize("bad_id", ["x" * 129, "a\x00b"], ids=["too-long", "nul"])
def test_save_posts__unstorable_id_is_a_clear_error_and_stores_nothing(engine, bad_id):
    with session_scope(engine) as s:
        queries.save_posts(s, [make_post(1)])
    with pytest.raises(ValueError, match="external_id"), session_scope(engine) as s:
        queries.save_posts(
            s,
            [make_post(2), make_post(3).__class__(**{**vars(make_post(3)), "external_id": bad_id})],
        )
    with session_scope(engine) as s:
        assert queries.count_posts(s) == 1


def test_save_posts__100k_characters_round_trip(engine):
    text = (RTL_AND_EMOJI * 5000)[:100_000]
    with session_scope(engine) as s:
        queries.save_posts(s, [make_post(1, text)])
    assert list(_stored_texts(engine).values()) == [text]


VALUES = st.one_of(
    st.none(),
    st.text(max_size=300),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
)
RECORDS = st.dictionaries(st.sampled_from([*FIELDS, "extra"]), VALUES, max_size=len(FIELDS))


def _jsonl(path, records: list[dict], junk: list[str]) -> None:
    lines = [json.dumps(r) for r in records] + junk
    path.write_text("\n".join(lines), encoding="utf-8")


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(RECORDS, max_size=5), junk=st.lists(st.text(max_size=40), max_size=2))
@example(records=[{"text": "t", "created_at": 10**30}], junk=[])
@example(records=[{"text": "t", "created_at": "2026-03-02", "like_count": 1e400}], junk=[])
@example(records=[{"text": "t", "created_at": float("nan")}], junk=["{]"])
def test_read_posts__malformed_jsonl_rows_raise_replay_error_only(tmp_path, records, junk):
    path = tmp_path / "posts.jsonl"
    _jsonl(path, records, junk)
    try:
        posts = read_posts(path)
    except ReplayError as exc:
        assert str(path) in str(exc)
        return
    assert len(posts) == len(records) + sum(1 for j in junk if j.strip())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=6), max_size=5))
def test_read_posts__malformed_csv_rows_raise_replay_error_only(tmp_path, rows):
    path = tmp_path / "posts.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["external_id", "text", "created_at", "author"])
        writer.writerows(rows)
    try:
        read_posts(path)
    except ReplayError as exc:
        assert str(path) in str(exc)


GOOD = '{"external_id": "g1", "text": "kept", "created_at": "2026-03-02T12:00:00Z"}'


def _stored_ids(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return {p.external_id for p in session.query(Post)}
    finally:
        engine.dispose()


def _is_valid(path) -> bool:
    try:
        read_posts(path)
    except ReplayError:
        return False
    return True


@settings(max_examples=8, deadline=None)
@given(bad=RECORDS)
@example(bad={"text": "no time"})
def test_cli_collect_replay__malformed_row_is_reported_and_nothing_stored_is_lost(bad):
    # A fresh database per example: one shared across examples would hide what a run lost.
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'fw.db'}"
        good, mixed = folder / "good.jsonl", folder / "mixed.jsonl"
        good.write_text(GOOD, encoding="utf-8")
        _jsonl(mixed, [{"external_id": "g2", "text": "new", "created_at": "2026-03-02"}, bad], [])
        runner = CliRunner()
        first = runner.invoke(cli, ["--database-url", url, "collect", "replay", str(good)])
        assert first.exit_code == 0, first.output
        result = runner.invoke(cli, ["--database-url", url, "collect", "replay", str(mixed)])
        if _is_valid(mixed):
            assert result.exit_code == 0, result.output
            assert {"g1", "g2"} <= _stored_ids(url)
        else:
            assert result.exit_code == 1 and "row 2" in result.output, result.output
            assert "Traceback" not in result.output
            # Validated whole before storing: nothing of the bad file, nothing lost before it.
            assert _stored_ids(url) == {"g1"}
