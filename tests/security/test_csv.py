"""CSV exports stay one row per record and never start a cell with a formula, whatever posts say."""

from __future__ import annotations

import csv
import io

import pandas as pd
from click.testing import CliRunner
from sqlalchemy import text

from flarewatch.cli import cli
from flarewatch.render.export import EXPORT_COLUMNS, labels_csv, outreach_csv
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import make_post
from tests.security.hostile import FORMULA_STARTS, HOSTILE_TEXTS


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _assert_safe(data: bytes, records: int) -> None:
    rows = _rows(data)
    assert len(rows) == records + 1
    assert len(pd.read_csv(io.BytesIO(data))) == records
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell


def test_outreach_csv__bare_cr_and_formulas_stay_in_their_cell():
    table = pd.DataFrame(
        [
            {c: value for c in EXPORT_COLUMNS} | {"priority": i, "author_id": i}
            for i, value in enumerate(HOSTILE_TEXTS)
        ]
    )
    data = outreach_csv(table)
    _assert_safe(data, len(HOSTILE_TEXTS))
    handles = [row[3] for row in _rows(data)[1:]]
    assert handles[0] == "evil\r=1+1"  # kept whole, inside its quoted cell


def test_labels_csv__hostile_text_and_reviewer_stay_in_their_cell():
    frame = pd.DataFrame(
        {
            "post_id": range(len(HOSTILE_TEXTS)),
            "text": HOSTILE_TEXTS,
            "label": "negative",
            "labelled_by": list(reversed(HOSTILE_TEXTS)),
            "labelled_at": "2026-03-02T12:00:00Z",
        }
    )
    _assert_safe(labels_csv(frame), len(HOSTILE_TEXTS))


def test_label_export__cli_writes_the_neutralised_csv(sqlite_engine, tmp_path):
    posts = [make_post(i, t, author=f"a{i}") for i, t in enumerate(HOSTILE_TEXTS)]
    with session_scope(sqlite_engine) as session:
        queries.save_posts(session, posts)
        ids = session.execute(text("SELECT id FROM posts ORDER BY id")).scalars().all()
        for post_id, who in zip(ids, HOSTILE_TEXTS, strict=True):
            queries.set_label_override(session, post_id, "negative", labelled_by=who)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    out = tmp_path / "labels.csv"
    result = CliRunner().invoke(cli, ["--database-url", url, "label", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    _assert_safe(out.read_bytes(), len(HOSTILE_TEXTS))
