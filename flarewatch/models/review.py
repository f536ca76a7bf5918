"""Review scorers on labelled data as DataFrames: per-text predictions, metrics, confusion, errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from flarewatch.domain import LABELS
from flarewatch.models.base import SentimentScorer
from flarewatch.models.data import LabelledTexts
from flarewatch.models.evaluate import scorer_probs
from flarewatch.models.metrics import classification_report

PREDICTION_COLUMNS = [
    "text",
    "gold",
    "predicted",
    "p_negative",
    "p_neutral",
    "p_positive",
    "confidence",
    "correct",
]
METRIC_COLUMNS = ["n", "accuracy", "macro_recall", "macro_f1", "ece"]


def predictions_frame(texts: list[str], labels: list[int], probs: np.ndarray) -> pd.DataFrame:
    """Lay out one scorer's probabilities next to the gold labels, one row per text."""
    probs = np.asarray(probs, dtype=float)
    predicted = probs.argmax(axis=1)
    return pd.DataFrame(
        {
            "text": texts,
            "gold": [LABELS[i] for i in labels],
            "predicted": [LABELS[i] for i in predicted],
            "p_negative": probs[:, 0],
            "p_neutral": probs[:, 1],
            "p_positive": probs[:, 2],
            "confidence": probs.max(axis=1),
            "correct": predicted == np.asarray(labels),
        },
        columns=PREDICTION_COLUMNS,
    )


def score_labelled(
    scorer: SentimentScorer, data: LabelledTexts, batch_size: int = 32
) -> pd.DataFrame:
    """Score labelled texts and return `predictions_frame` of the result.

    Args:
        scorer: Any `SentimentScorer` (its `predict_proba` is used when it has one).
        data: Texts with gold labels, e.g. from `models.data.read_tweeteval`.
        batch_size: Texts per batch.
    """
    return predictions_frame(data.texts, data.labels, scorer_probs(scorer, data.texts, batch_size))


def _report(predictions: pd.DataFrame) -> dict[str, Any]:
    gold = [LABELS.index(g) for g in predictions["gold"]]
    probs = predictions[["p_negative", "p_neutral", "p_positive"]].to_numpy()
    return classification_report(gold, probs)


def metrics_table(predictions: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Compare scorers: accuracy, macro recall, macro F1 and ECE per scorer name.

    Args:
        predictions: Scorer name to its `score_labelled` frame, all on the same data.

    Returns:
        One row per scorer (indexed by name) with `METRIC_COLUMNS` and per-class recall.
    """
    rows = {}
    for name, frame in predictions.items():
        report = _report(frame)
        recalls = dict(
            zip([f"recall_{label}" for label in LABELS], report["recall_per_class"], strict=True)
        )
        rows[name] = {**{k: report[k] for k in METRIC_COLUMNS}, **recalls}
    return pd.DataFrame.from_dict(rows, orient="index")


def confusion(predictions: pd.DataFrame) -> pd.DataFrame:
    """Return the confusion matrix: rows are gold labels, columns predicted labels."""
    matrix = _report(predictions)["confusion"]
    return pd.DataFrame(
        matrix,
        index=pd.Index(LABELS, name="gold"),
        columns=pd.Index(LABELS, name="predicted"),
    )


def worst_errors(predictions: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Return the `n` wrong predictions the scorer was most confident about, most confident first.

    Confidently wrong texts are the ones to read first: label noise, sarcasm, domain slang.
    """
    wrong = predictions[~predictions["correct"]]
    return wrong.sort_values("confidence", ascending=False).head(n)
