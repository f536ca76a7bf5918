"""Human label overrides: stored apart from model scores, exported as training data."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from flarewatch.cli import cli
from flarewatch.models.data import read_labelled_csv
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import make_post


def _seed(engine) -> list[int]:
    with session_scope(engine) as session:
        queries.save_posts(session, [make_post(1, "site is down"), make_post(2, 'ok, "fine"')])
        queries.save_scores(
            session,
            "m@1",
            [
                {
                    "post_id": pid,
                    "label": "neutral",
                    "p_negative": 0.2,
                    "p_neutral": 0.6,
                    "p_positive": 0.2,
                }
                for pid, _ in queries.unscored_posts(session, "m@1")
            ],
        )
        return [pid for pid, _ in queries.unscored_posts(session, "other@1")]


def test_label_override__kept_apart_from_scores(engine):
    first, second = _seed(engine)
    with session_scope(engine) as session:
        queries.set_label_override(session, first, "neutral", labelled_by="ana")
        queries.set_label_override(session, first, "negative", note="outage complaint")
        queries.set_label_override(session, second, "positive")
    with session_scope(engine) as session:
        rows = queries.label_overrides(session, model_version="m@1")
        assert [(r["post_id"], r["label"], r["model_label"]) for r in rows] == [
            (first, "negative", "neutral"),
            (second, "positive", "neutral"),
        ]
        assert queries.count_unscored(session, "m@1") == 0
        assert queries.clear_label_override(session, first)
        assert not queries.clear_label_override(session, first)
        assert len(queries.label_overrides(session)) == 1


def test_label_override__rejects_bad_label_and_post(engine):
    first, _ = _seed(engine)
    with session_scope(engine) as session, pytest.raises(ValueError, match="angry"):
        queries.set_label_override(session, first, "angry")
    with session_scope(engine) as session, pytest.raises(LookupError, match="999"):
        queries.set_label_override(session, 999, "negative")


def test_label_cli__set_export_roundtrip(sqlite_engine, tmp_path):
    first, second = _seed(sqlite_engine)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    assert (
        runner.invoke(
            cli, ["--database-url", url, "label", "set", str(first), "negative", "--by", "ana"]
        ).exit_code
        == 0
    )
    runner.invoke(cli, ["--database-url", url, "label", "set", str(second), "positive"])
    missing = runner.invoke(cli, ["--database-url", url, "label", "set", "999", "neutral"])
    assert missing.exit_code == 1 and "no post with id 999" in missing.output
    out = tmp_path / "labels.csv"
    result = runner.invoke(cli, ["--database-url", url, "label", "export", "--out", str(out)])
    assert result.exit_code == 0 and "2 labelled posts" in result.output
    assert read_labelled_csv(out).labels == [0, 2]
    printed = runner.invoke(cli, ["--database-url", url, "label", "export"]).output
    assert [r["text"] for r in csv.DictReader(io.StringIO(printed))] == [
        "site is down",
        'ok, "fine"',
    ]
