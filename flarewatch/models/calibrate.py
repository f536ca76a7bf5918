"""Logit biases and temperature tuned for macro recall across domains, not one dev set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from flarewatch.models.corpora import COMPLAINT, COMPLAINTS, Corpus
from flarewatch.models.metrics import (
    classification_report,
    complaint_report,
    fit_temperature,
    softmax,
)

COARSE = np.round(np.arange(-3.0, 3.01, 0.1), 3)


@dataclass(frozen=True)
class Scored:
    """A dev corpus with the network's raw logits for each of its texts."""

    corpus: Corpus
    logits: np.ndarray


def domain_score(scored: Scored, bias: np.ndarray) -> float:
    """Macro recall for sentiment sets; for complaints the mean of the complaint→negative
    share and the not-complaint→not-negative share (a two-class balanced recall)."""
    pred = (scored.logits + bias).argmax(1)
    gold = np.asarray(scored.corpus.labels)
    if scored.corpus.kind == COMPLAINTS:
        negative = pred == 0
        return float(
            (negative[gold == COMPLAINT].mean() + (~negative[gold != COMPLAINT]).mean()) / 2
        )
    recalls = [(pred[gold == c] == c).mean() for c in range(3) if (gold == c).any()]
    return float(np.mean(recalls))


def objective(dev: list[Scored], bias: np.ndarray) -> float:
    """The mean of `domain_score` over domains: each domain counts the same."""
    return float(np.mean([domain_score(s, bias) for s in dev]))


def fit_bias(dev: list[Scored]) -> tuple[np.ndarray, float]:
    """Grid-search negative and positive logit offsets (neutral fixed at 0), coarse then fine.

    Returns:
        The bias vector (negative, neutral, positive) and its objective value.
    """
    best, best_score = np.zeros(3), objective(dev, np.zeros(3))
    for grid in (COARSE, None):
        centre = best.copy()
        steps = grid if grid is not None else np.round(np.arange(-0.1, 0.101, 0.02), 3)
        for neg in steps:
            for pos in steps:
                bias = np.array([neg, 0.0, pos]) + (centre if grid is None else 0.0)
                score = objective(dev, bias)
                if score > best_score + 1e-9:
                    best, best_score = bias, score
    return np.round(best, 3), best_score


def calibrate(dev: list[Scored]) -> dict[str, Any]:
    """Fit logit biases for the decision, then a temperature on the biased logits.

    Probabilities are `softmax((logits + bias) / T)`, so their arg-max is the tuned decision.
    The temperature minimises NLL over every 3-class dev text together.

    Returns:
        `logit_bias`, `temperature`, `objective` (before and after) and per-domain reports.
    """
    bias, score = fit_bias(dev)
    sentiment = [s for s in dev if s.corpus.kind != COMPLAINTS]
    pooled = np.concatenate([s.logits for s in sentiment]) + bias
    gold = np.concatenate([s.corpus.labels for s in sentiment])
    temperature = fit_temperature(pooled, gold)
    return {
        "logit_bias": [float(b) for b in bias],
        "temperature": round(temperature, 4),
        "objective": {"argmax": round(objective(dev, np.zeros(3)), 4), "tuned": round(score, 4)},
        "domains": {s.corpus.domain: dev_report(s, bias, temperature) for s in dev},
    }


def dev_report(scored: Scored, bias: np.ndarray, temperature: float) -> dict[str, Any]:
    """One dev domain's metrics under the tuned decision (ECE after the temperature)."""
    probs = softmax(scored.logits + bias, temperature)
    if scored.corpus.kind == COMPLAINTS:
        return complaint_report(scored.corpus.labels, probs)
    report = classification_report(scored.corpus.labels, probs)
    report["ece_raw"] = classification_report(scored.corpus.labels, softmax(scored.logits))["ece"]
    return report
