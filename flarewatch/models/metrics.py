"""Classification metrics, calibration error and temperature scaling."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np


def classification_report(
    labels: Sequence[int] | np.ndarray, probs: np.ndarray, num_classes: int = 3
) -> dict[str, Any]:
    """Compute accuracy, macro recall, macro F1, ECE and the confusion matrix.

    Args:
        labels: Gold class indices.
        probs: Predicted probabilities, shape (n, num_classes).
        num_classes: Number of classes.

    Returns:
        A JSON-ready dict; `confusion[i][j]` counts gold class i predicted as j.
    """
    gold = np.asarray(labels)
    pred = probs.argmax(1)
    confusion = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(confusion, (gold, pred), 1)
    tp = np.diag(confusion).astype(float)
    recall = tp / np.maximum(confusion.sum(1), 1)
    precision = tp / np.maximum(confusion.sum(0), 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return {
        "n": len(gold),
        "accuracy": round(float((pred == gold).mean()), 4),
        "macro_recall": round(float(recall.mean()), 4),
        "macro_f1": round(float(f1.mean()), 4),
        "recall_per_class": [round(float(r), 4) for r in recall],
        "neutral_to_negative": round(float(confusion[1, 0] / max(confusion[1].sum(), 1)), 4),
        "ece": round(expected_calibration_error(gold, probs), 4),
        "confusion": confusion.tolist(),
    }


def complaint_report(labels: Sequence[int] | np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """How a sentiment model reads complaints (label 3) and non-complaints (label 4).

    Returns:
        `n`, the share of complaints scored negative, the share of non-complaints scored
        negative, and their balanced score (mean of the first and one minus the second).
    """
    gold = np.asarray(labels)
    negative = probs.argmax(1) == 0
    complaint = negative[gold == 3].mean() if (gold == 3).any() else float("nan")
    other = negative[gold == 4].mean() if (gold == 4).any() else float("nan")
    return {
        "n": len(gold),
        "complaints": int((gold == 3).sum()),
        "complaint_negative": round(float(complaint), 4),
        "not_complaint_negative": round(float(other), 4),
        "balanced": round(float((complaint + 1 - other) / 2), 4),
    }


def expected_calibration_error(
    labels: Sequence[int] | np.ndarray, probs: np.ndarray, bins: int = 15
) -> float:
    """Return the ECE of the top-class confidence over `bins` equal-width bins."""
    gold = np.asarray(labels)
    confidence, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            gap = abs((pred[inside] == gold[inside]).mean() - confidence[inside].mean())
            ece += inside.mean() * gap
    return float(ece)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of `logits / temperature`."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(1, keepdims=True)
    exp = np.exp(scaled)
    result: np.ndarray = exp / exp.sum(1, keepdims=True)
    return result


def fit_temperature(logits: np.ndarray, labels: Sequence[int] | np.ndarray) -> float:
    """Find the temperature that minimises the negative log-likelihood (Guo et al., 2017).

    Args:
        logits: Unnormalised scores on a held-out set, shape (n, classes).
        labels: Their gold class indices.

    Returns:
        The fitted temperature, T > 0 (divide logits by it before the softmax).
    """
    gold = np.asarray(labels)

    def nll(temperature: float) -> float:
        probs = softmax(logits, temperature)
        return float(-np.log(probs[np.arange(len(gold)), gold] + 1e-12).mean())

    # NLL is smooth and unimodal in log T: a coarse grid then a fine one is exact enough.
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 200))
    best = min(grid, key=nll)
    fine = np.linspace(best * 0.95, best * 1.05, 101)
    return float(min(fine, key=nll))
