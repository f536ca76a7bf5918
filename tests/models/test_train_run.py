"""`flarewatch model train` end to end on the real encoder: a run, then a run continued from it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from flarewatch.cli import cli
from flarewatch.models.transformer import SentimentModel

TINY = ["--max-examples", "48", "--batch-size", "16", "--threads", "1", "--lr", "1e-3"]


def _train(root, out, *extra):
    args = ["model", "train", "--data", str(root), "--out", str(out), *TINY, *extra]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return json.loads((out / "flarewatch.json").read_text())


@pytest.mark.slow  # loads MiniLM and trains it for a few steps, twice
def test_model_train__continues_a_run_and_records_the_neutral_cap(training_root, tmp_path):
    _train(training_root, tmp_path / "first")
    start = tmp_path / "first" / "checkpoint.safetensors"
    config = _train(
        training_root, tmp_path / "next", "--init", str(start), "--max-neutral-to-negative", "0.5"
    )
    dev = config["dev"]
    shares = [d["neutral_to_negative"] for d in dev["domains"].values() if "recall_per_class" in d]
    assert dev["max_neutral_to_negative"] == 0.5 and len(shares) == 3
    assert dev["cap_kept"] == all(share <= 0.5 for share in shares)
    assert config["training"]["init"] == str(start)
    model = SentimentModel.from_pretrained(str(tmp_path / "next"))
    assert model.predict(["the app 99 down again"])[0].label in ("negative", "neutral", "positive")
