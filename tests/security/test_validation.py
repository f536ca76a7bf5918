"""Bad values get a one-line error naming them, and nothing stored is lost."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from flarewatch import api
from flarewatch.cli import cli
from flarewatch.collectors.replay import ReplayError, ReplayOptions, parse_mapping, read_posts

HEADER = "id,body,ts,user\n"
MAP = "text=body,created_at=ts,external_id=id,author=user"


def _invoke(engine, *args: str):
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(cli, ["--database-url", url, *args])


@pytest.mark.parametrize(
    "args, named",
    [
        (["incident", "report", "1", "--bucket-minutes", "0"], "--bucket-minutes"),
        (["incident", "report", "1", "--bucket-minutes", "-15"], "--bucket-minutes"),
        (["incident", "report", "1", "--hold-hours", "-1"], "--hold-hours"),
        (["spikes", "scan", "--bucket-minutes", "0"], "--bucket-minutes"),
        (["outreach", "list", "--incident", "1", "--limit", "-1"], "--limit"),
        (["collect", "replay", "x.csv", "--shift-hours", "1e12"], "--shift-hours"),
        (["incident", "listen", "--port", "70000"], "--port"),
    ],
)
def test_cli__out_of_range_option_is_a_usage_error_naming_it(sqlite_engine, args, named):
    result = _invoke(sqlite_engine, *args)
    assert (result.exit_code == 2 and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    assert named in result.output and "Traceback" not in result.output


def test_incident__empty_title_and_resolve_before_open_are_refused(sqlite_engine):
    empty = _invoke(sqlite_engine, "incident", "open", "   ")
    assert empty.exit_code == 1 and "Error: incident title is empty" in empty.output
    opened = _invoke(sqlite_engine, "incident", "open", "Login", "--at", "2026-03-02T12:00Z")
    assert opened.exit_code == 0, opened.output
    early = _invoke(sqlite_engine, "incident", "resolve", "1", "--at", "2026-03-02T11:00Z")
    assert early.exit_code == 1 and "is before incident 1 opened" in early.output
    assert len(early.output.strip().splitlines()) == 1
    assert api.get_incident(sqlite_engine, 1).status == "open"  # nothing changed


def _read(tmp_path, data: bytes, mapping: str = MAP):
    path = tmp_path / "posts.csv"
    path.write_bytes(data)
    return read_posts(path, ReplayOptions(mapping=parse_mapping(mapping)))


def test_replay__utf8_bom_is_not_part_of_the_header(tmp_path):
    posts = _read(tmp_path, "\ufeffid,body,ts,user\n1,ok,2026-03-02T10:00:00Z,a\n".encode())
    assert [p.text for p in posts] == ["ok"]


@pytest.mark.parametrize(
    "data, problem",
    [
        (
            HEADER.encode() + b"1,ok,2026-03-02T10:00:00Z,a\n2,caf\xe9,2026-03-02T10:00:00Z,a\n",
            "line 3: not UTF-8 (byte 6: invalid continuation byte)",
        ),
        (
            HEADER.encode()
            + b"1,ok,2026-03-02T10:00:00Z,a\n2,"
            + b"x" * 1_000_000
            + b",2026-03-02T10:00:00Z,a\n",
            "row 2 (line 3): unreadable (field larger than field limit",
        ),
        (
            HEADER.encode()
            + b'1,ok,2026-03-02T10:00:00Z,a\n2,"never closed,2026-03-02T10:00:00Z,a\n',
            "row 2 (line 3): unreadable (unexpected end of data)",
        ),
    ],
)
def test_replay__unreadable_row_names_row_and_line(tmp_path, data, problem):
    with pytest.raises(ReplayError) as caught:
        _read(tmp_path, data)
    assert problem in str(caught.value) and "\n" not in str(caught.value)


def test_replay__map_to_an_absent_column_is_refused(tmp_path):
    data = (HEADER + "1,ok,2026-03-02T10:00:00Z,a\n").encode()
    with pytest.raises(ReplayError, match=r"--map names no column 'handle' \(for author\)"):
        _read(tmp_path, data, "text=body,created_at=ts,external_id=id,author=handle")
