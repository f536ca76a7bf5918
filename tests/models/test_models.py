"""Sentiment model: preprocessing, the shipped default model, HF label mapping, evaluate CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from flarewatch.cli import cli
from flarewatch.models.base import SentimentPrediction, SentimentScorer
from flarewatch.models.data import read_labelled_csv, read_tweeteval
from flarewatch.models.metrics import classification_report, fit_temperature, softmax
from flarewatch.models.text import decode_escapes, preprocess
from flarewatch.models.transformer import (
    LabelMappingError,
    SentimentModel,
    label_order,
    native_bf16,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("@Delta_Air you lost my bag", "@user you lost my bag"),
        ("see https://t.co/abc123 and www.example.com/x", "see http and http"),
        (r"I\u2019m fine", "I’m fine"),
        (r"so mad \ud83d\ude21", "so mad enraged face"),
        ("fish &amp; chips &lt;3", "fish & chips <3"),
        ("worst 😡😡 day", "worst enraged face enraged face day"),
        ("  spaced\n\tout  ", "spaced out"),
        ("mail me at a@b.com", "mail me at a@b.com"),
    ],
)
def test_preprocess__tweeteval_style(raw, clean):
    assert preprocess(raw) == clean


def test_decode_escapes__leaves_plain_text_alone():
    assert decode_escapes("no escapes \\n here") == "no escapes \\n here"


def test_label_order__variants():
    assert label_order({0: "negative", 1: "neutral", 2: "positive"}) == [0, 1, 2]
    assert label_order({0: "POS", 1: "NEG", 2: "NEU"}) == [1, 2, 0]
    assert label_order({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}) == [0, 1, 2]
    assert label_order({0: "Negative", 1: "Positive"}) == [0, None, 1]


def test_label_order__unmappable_names_the_labels():
    with pytest.raises(LabelMappingError, match="foo"):
        label_order({0: "foo", 1: "bar", 2: "baz"})
    with pytest.raises(LabelMappingError):
        label_order({0: "LABEL_0", 1: "LABEL_1"})


def test_metrics__perfect_and_calibration():
    probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    report = classification_report([0, 1, 2], probs)
    assert report["accuracy"] == report["macro_recall"] == report["macro_f1"] == 1.0
    assert report["confusion"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 500)
    logits = 4 * (np.eye(3)[labels] * 2 + rng.normal(0, 1, (500, 3)))  # overconfident by ~4x
    temperature = fit_temperature(logits, labels)
    assert temperature > 1.2
    assert (
        classification_report(labels, softmax(logits, temperature))["ece"]
        < classification_report(labels, softmax(logits))["ece"]
    )


# --- the shipped default model ----------------------------------------------------------------


@pytest.fixture(scope="module")
def default_model() -> SentimentModel:
    return SentimentModel.from_pretrained("default", num_threads=2)


def test_default_model__obvious_texts(default_model):
    preds = default_model.predict(
        [
            "my flight was cancelled again, worst airline ever",
            "thank you so much, great service!",
        ]
    )
    assert [p.label for p in preds] == ["negative", "positive"]
    for p in preds:
        assert p.p_negative + p.p_neutral + p.p_positive == pytest.approx(1.0, abs=1e-5)


def test_default_model__contract(default_model):
    assert isinstance(default_model, SentimentScorer)
    assert default_model.version.startswith("flarewatch-minilm-lora@")
    assert default_model.predict([]) == []
    one = default_model.predict("the app is down 😡")
    assert len(one) == 1 and isinstance(one[0], SentimentPrediction)


def test_default_model__order_kept_despite_length_sorting(default_model):
    texts = ["love it", "this is a much longer complaint about the outage " * 5, "meh"]
    batched = default_model.predict(texts, batch_size=2)
    single = [default_model.predict(t)[0] for t in texts]
    for a, b in zip(batched, single, strict=True):
        assert a.p_negative == pytest.approx(b.p_negative, abs=1e-4)


@pytest.mark.slow
def test_default_model__precisions_agree():
    texts = ["my flight was cancelled again", "thanks, sorted!", "is the app down?", "ok"]
    fp32 = SentimentModel.from_pretrained("default", num_threads=2, precision="fp32")
    bf16 = SentimentModel.from_pretrained("default", num_threads=2, precision="bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert bf16.version == fp32.version  # same model, other arithmetic: scores stay comparable
    for a, b in zip(fp32.predict(texts), bf16.predict(texts), strict=True):
        assert a.label == b.label
        assert a.p_negative == pytest.approx(b.p_negative, abs=0.03)


@pytest.mark.slow
def test_default_model__auto_precision_follows_the_cpu():
    model = SentimentModel.from_pretrained("default", num_threads=2)
    assert model.precision == ("bf16" if native_bf16() else "fp32")
    with pytest.raises(ValueError, match="precision 'fp16'"):
        SentimentModel.from_pretrained("default", precision="fp16")


def test_default_model__embed(default_model):
    vectors = default_model.embed(["server outage", "the servers are down", "I love pizza"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


# --- any Hugging Face classifier --------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_tokenizer(tmp_path_factory):
    from transformers import AutoTokenizer

    from flarewatch.models.minilm import base_model_path

    path = tmp_path_factory.mktemp("tok")
    AutoTokenizer.from_pretrained(base_model_path()).save_pretrained(path)
    return path


def _tiny_classifier(path: Path, tokenizer_dir: Path, id2label: dict[int, str]) -> Path:
    import shutil

    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    BertForSequenceClassification(config).save_pretrained(path)
    for item in tokenizer_dir.iterdir():
        shutil.copy(item, path / item.name)
    return path


@pytest.mark.slow  # builds and loads a Hugging Face model
@pytest.mark.parametrize(
    "id2label",
    [
        {0: "NEG", 1: "NEU", 2: "POS"},
        {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"},
        {0: "positive", 1: "negative"},
    ],
)
def test_from_pretrained__hf_label_variants(tmp_path, tiny_tokenizer, id2label):
    path = _tiny_classifier(tmp_path / "tiny", tiny_tokenizer, id2label)
    model = SentimentModel.from_pretrained(str(path))
    preds = model.predict(["fine", "awful outage"])
    assert len(preds) == 2 and model.version.startswith(f"{path}@")
    if len(id2label) == 2:
        assert all(p.p_neutral == 0.0 for p in preds)
    assert model.embed("hello").shape == (1, 32)


@pytest.mark.slow  # builds and loads a Hugging Face model
def test_from_pretrained__unmappable_labels(tmp_path, tiny_tokenizer):
    path = _tiny_classifier(tmp_path / "tiny", tiny_tokenizer, {0: "foo", 1: "bar", 2: "baz"})
    with pytest.raises(LabelMappingError, match=r"\['bar', 'baz', 'foo'\]"):
        SentimentModel.from_pretrained(str(path))


@pytest.mark.slow  # builds and loads a Hugging Face model
def test_from_pretrained__quantized_hf(tmp_path, tiny_tokenizer):
    path = _tiny_classifier(tmp_path / "tiny", tiny_tokenizer, {0: "NEG", 1: "NEU", 2: "POS"})
    model = SentimentModel.from_pretrained(str(path), quantize=True)
    assert model.version.endswith("+int8") and len(model.predict(["ok"])) == 1


@pytest.mark.slow  # builds and loads a Hugging Face model
def test_quantize__ffn_down_projections_and_the_head_stay_float(tmp_path, tiny_tokenizer):
    import torch

    path = _tiny_classifier(tmp_path / "tiny", tiny_tokenizer, {0: "NEG", 1: "NEU", 2: "POS"})
    network = SentimentModel.from_pretrained(str(path), quantize=True).network
    layers = dict(getattr(network, "model", network).named_modules())
    kept = {n for n, m in layers.items() if type(m) is torch.nn.Linear}
    assert kept and all(n.endswith(("output.dense", "classifier")) for n in kept)
    assert not any(n.endswith("attention.output.dense") for n in kept)
    assert any(
        type(m).__name__ == "Linear" and type(m) is not torch.nn.Linear for m in layers.values()
    )


# --- data readers and the evaluate CLI --------------------------------------------------------


def _tweeteval_dir(tmp_path: Path) -> Path:
    (tmp_path / "val_text.txt").write_text(
        "my flight was cancelled again, worst airline ever\n"
        "thank you so much, great service!\n"
        "the meeting is at 3pm\n",
        encoding="utf-8",
    )
    (tmp_path / "val_labels.txt").write_text("0\n2\n1\n")
    return tmp_path


def test_read_tweeteval__mismatch_and_bad_label(tmp_path):
    _tweeteval_dir(tmp_path)
    assert read_tweeteval(tmp_path, "val").labels == [0, 2, 1]
    (tmp_path / "val_labels.txt").write_text("0\n2\n")
    with pytest.raises(ValueError, match="3 lines"):
        read_tweeteval(tmp_path, "val")
    (tmp_path / "val_labels.txt").write_text("0\n7\n1\n")
    with pytest.raises(ValueError, match="line 2"):
        read_tweeteval(tmp_path, "val")


def test_read_labelled_csv__bad_label_names_the_row(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text("body,sentiment\ngreat,Positive\nbad,negative\nhm,angry\n")
    with pytest.raises(ValueError, match="row 4: label 'angry'"):
        read_labelled_csv(path, "body", "sentiment")
    path.write_text("body,sentiment\ngreat,Positive\nbad,negative\n")
    assert read_labelled_csv(path, "body", "sentiment").labels == [2, 0]


def test_evaluate_cli__tweeteval_json(tmp_path, default_model):
    result = CliRunner().invoke(
        cli,
        ["model", "evaluate", "--data", str(_tweeteval_dir(tmp_path)), "--split", "val", "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["n"] == 3
    for key in ("accuracy", "macro_recall", "macro_f1", "posts_per_s", "ece", "confusion"):
        assert key in report
    assert sum(map(sum, report["confusion"])) == 3


def test_evaluate_cli__csv_label_error(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text("text,label\ngreat,positive\nhm,mixed\n")
    result = CliRunner().invoke(cli, ["model", "evaluate", "--csv", str(path), "--json"])
    assert result.exit_code == 1
    assert "row 3" in result.output and "'mixed'" in result.output


def test_evaluate_cli__needs_one_source():
    result = CliRunner().invoke(cli, ["model", "evaluate", "--json"])
    assert result.exit_code == 2 and "exactly one" in result.output


# --- the score command ------------------------------------------------------------------------


class _FakeScorer:
    version = "fake@1"

    def predict(self, texts, batch_size=32):
        return [
            SentimentPrediction.from_probs([0.8, 0.1, 0.1] if "down" in t else [0.1, 0.2, 0.7])
            for t in ([texts] if isinstance(texts, str) else texts)
        ]


def test_score_cli__scores_pending_once(sqlite_engine, monkeypatch):
    from flarewatch.models import transformer
    from flarewatch.storage import queries
    from flarewatch.storage.engine import session_scope
    from tests.conftest import make_post

    with session_scope(sqlite_engine) as session:
        queries.save_posts(session, [make_post(1, "site is down"), make_post(2, "love it")])
    monkeypatch.setattr(transformer, "load_scorer", lambda name, **_options: _FakeScorer())
    url = sqlite_engine.url.render_as_string(hide_password=False)
    first = CliRunner().invoke(cli, ["--database-url", url, "score"])
    assert first.exit_code == 0, first.output
    assert "scored 2 posts with fake@1" in first.output
    again = CliRunner().invoke(cli, ["--database-url", url, "score"])
    assert "scored 0 posts" in again.output
    with session_scope(sqlite_engine) as session:
        assert queries.count_unscored(session, "fake@1") == 0


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("my flight was cancelled again, worst airline ever", None, "en"),
        ("Der Server ist schon wieder down, das ist eine Katastrophe", None, "de"),
        ("Je suis très déçu du service client", None, "fr"),
        ("anything at all", "es-MX", "es"),
        ("my flight was cancelled again", "und", "en"),
        ("@Delta https://t.co/x", None, None),
        ("lol", None, None),
    ],
)
def test_detect_language(text, hint, expected):
    from flarewatch.models.language import detect_language

    assert detect_language(text, hint) == expected


def test_is_covered__unknown_counts_as_covered():
    from flarewatch.models.language import is_covered, model_languages

    assert is_covered("en") and is_covered(None) and not is_covered("de")
    assert model_languages(_FakeScorer()) == ("en",)
