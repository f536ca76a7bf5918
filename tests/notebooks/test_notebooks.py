"""Analyst notebooks: stored without outputs, and each one runs top to bottom on the demo database."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TWEETEVAL = NOTEBOOK_DIR.parents[1] / "shared" / "data" / "tweeteval-sentiment"
CELL_TIMEOUT_S = 600


def test_notebooks__are_indexed_in_readme():
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    assert len(NOTEBOOKS) == 3
    assert all(f"({path.name})" in readme for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook__stored_with_outputs_stripped(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert set(notebook.metadata) <= {"kernelspec", "language_info"}


def run_notebook(path: Path) -> None:
    """Execute a notebook in a fresh kernel from its own folder; any cell error fails."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook__runs_on_demo_database(path, demo_db_url, tmp_path, monkeypatch):
    # The kernel inherits this process's environment.
    monkeypatch.setenv("FLAREWATCH_DATABASE_URL", demo_db_url)
    monkeypatch.setenv("FLAREWATCH_EXPORT_DIR", str(tmp_path))
    if TWEETEVAL.is_dir():  # this checkout's shared data; users put theirs in data/
        monkeypatch.setenv("FLAREWATCH_TWEETEVAL_DIR", str(TWEETEVAL))
    run_notebook(path)
    if path.stem == "03_outreach_review":
        (export,) = tmp_path.glob("*.csv")
        assert export.read_text(encoding="utf-8").startswith('"priority","author_id","platform"')
