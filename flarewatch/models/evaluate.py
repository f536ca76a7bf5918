"""Evaluate a sentiment scorer on labelled data: accuracy, macro recall/F1, ECE and speed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from flarewatch.domain import LABELS
from flarewatch.models.base import SentimentScorer
from flarewatch.models.data import LabelledTexts
from flarewatch.models.metrics import classification_report


def scorer_probs(scorer: SentimentScorer, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """Return an (n, 3) probability array from any scorer, in input order."""
    predict_proba = getattr(scorer, "predict_proba", None)
    if predict_proba is not None:
        return np.asarray(predict_proba(texts, batch_size))
    predictions = scorer.predict(texts, batch_size=batch_size)
    return np.array([[p.p_negative, p.p_neutral, p.p_positive] for p in predictions])


def evaluate(scorer: SentimentScorer, data: LabelledTexts, batch_size: int = 32) -> dict[str, Any]:
    """Score `data` with `scorer` and report quality and throughput.

    Args:
        scorer: Any `SentimentScorer` (`predict_proba` is used when it has one).
        data: Texts with gold labels.
        batch_size: Posts per batch.

    Returns:
        A JSON-ready dict with `n`, `accuracy`, `macro_recall`, `macro_f1`, `ece`,
        `confusion` (rows gold, columns predicted, order negative/neutral/positive),
        `posts_per_s`, the model `version` and, where the scorer says, its `precision`.
    """
    started = time.perf_counter()
    probs = scorer_probs(scorer, data.texts, batch_size)
    seconds = time.perf_counter() - started
    report = classification_report(data.labels, probs)
    return {
        "model": scorer.version,
        "precision": getattr(scorer, "precision", None),
        "data": data.source,
        **report,
        "labels": list(LABELS),
        "seconds": round(seconds, 2),
        "posts_per_s": round(len(data) / max(seconds, 1e-9), 1),
    }
