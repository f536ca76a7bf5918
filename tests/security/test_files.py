"""Data files and exports: owner-only, never overwritten without --force, never through a link."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from flarewatch.cli import cli
from flarewatch.storage.engine import make_engine, upgrade


def _mode(path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_sqlite__database_and_wal_are_owner_only(tmp_path):
    path = tmp_path / "fw.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (x)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert _mode(tmp_path / "fw.db-wal") == 0o600
    assert _mode(path) == 0o600
    engine.dispose()


@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'fw.db'}"
    upgrade(make_engine(url))
    return url


def test_label_export__refuses_to_overwrite_without_force(db_url, tmp_path):
    out = tmp_path / "labels.csv"
    out.write_text("precious")
    args = ["--database-url", db_url, "label", "export", "--out", str(out)]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1 and "exists: pass --force" in refused.output
    assert out.read_text() == "precious"
    forced = CliRunner().invoke(cli, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert out.read_text().startswith('"post_id"') and _mode(out) == 0o600


def test_label_export__never_writes_through_a_symlink(db_url, tmp_path):
    target = tmp_path / "victim.txt"
    target.write_text("do not touch")
    link = tmp_path / "labels.csv"
    link.symlink_to(target)
    args = ["--database-url", db_url, "label", "export", "--out", str(link)]
    assert CliRunner().invoke(cli, args).exit_code == 1
    forced = CliRunner().invoke(cli, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert target.read_text() == "do not touch"  # the link was replaced, not followed
    assert not link.is_symlink() and _mode(link) == 0o600


def test_incident_report__new_file_is_owner_only(db_url, tmp_path):
    opened = CliRunner().invoke(cli, ["--database-url", db_url, "incident", "open", "Login"])
    assert opened.exit_code == 0, opened.output
    out = tmp_path / "report.md"
    result = CliRunner().invoke(
        cli, ["--database-url", db_url, "incident", "report", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert _mode(out) == 0o600 and out.read_text().startswith("# Post-incident report: Login")
