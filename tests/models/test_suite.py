"""The evaluation suite (`flarewatch model evaluate --suite`) and the tuned decision rule."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from flarewatch.cli import cli
from flarewatch.models import suite
from flarewatch.models.transformer import SentimentModel
from tests.helpers.keyword_scorer import KeywordScorer


def test_run_suite__every_set_and_split(corpus_root):
    rows = suite.run_suite(corpus_root, [KeywordScorer()])
    sets = [(r["set"], r["split"]) for r in rows]
    assert sets == list(suite.SETS)  # tweeteval has no visible test split
    te = rows[0]
    assert te["n"] == 3 and te["recall"] == [1.0, 1.0, 1.0] and te["neu_to_neg"] == 0.0
    go = rows[1]
    assert go["recall"] == [1.0, 0.5, 1.0] and go["neu_to_neg"] == 0.5
    complaint = next(r for r in rows if r["set"] == "complaints")
    assert complaint["complaint_negative"] == 1.0  # "lost" is a negative keyword
    assert complaint["not_complaint_negative"] == 0.0  # random tweets are left out


def test_format_table__both_tables(corpus_root):
    table = suite.format_table(suite.run_suite(corpus_root, [KeywordScorer()]))
    assert "| goemotions | dev | keyword-test-1 | 4 | 0.750 | 0.833 |" in table
    assert "complaints → negative" in table


def test_evaluate_cli__suite_json_with_vader(corpus_root, monkeypatch):
    monkeypatch.setattr(
        "flarewatch.models.transformer.load_scorer", lambda *a, **k: KeywordScorer()
    )
    result = CliRunner().invoke(
        cli, ["model", "evaluate", "--suite", str(corpus_root), "--model", "x", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    models = {r["model"] for r in rows}
    assert "keyword-test-1" in models and any(m.startswith("vader@") for m in models)
    assert len(rows) == 2 * len(suite.SETS)


class _FixedNetwork(torch.nn.Module):
    """Returns the same logits for every text."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.tensor(logits), requires_grad=False)

    def forward(self, input_ids, attention_mask):
        return self.logits.expand(input_ids.shape[0], -1)


class _Tokenizer:
    pad_token_id = 0

    def __call__(self, texts, truncation=True, max_length=128):
        return {"input_ids": [[1, 2] for _ in texts]}


def test_sentiment_model__logit_bias_then_temperature():
    plain = SentimentModel(_FixedNetwork([0.5, 0.4, 0.0]), _Tokenizer(), version="t")
    biased = SentimentModel(
        _FixedNetwork([0.5, 0.4, 0.0]),
        _Tokenizer(),
        version="t",
        logit_bias=[-0.3, 0.0, 0.1],
        temperature=2.0,
    )
    assert plain.predict("x")[0].label == "negative"
    assert biased.predict("x")[0].label == "neutral"
    logits = np.array([0.2, 0.4, 0.1]) / 2.0
    expected = np.exp(logits) / np.exp(logits).sum()
    assert biased.predict_proba(["x"])[0] == pytest.approx(expected, rel=1e-5)
