"""VADER lexicon baseline behind the `SentimentScorer` protocol, for comparisons and quick demos."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from flarewatch.models.base import SentimentPrediction

# VADER's documented cut-offs: compound >= 0.05 is positive, <= -0.05 negative, else neutral.
THRESHOLD = 0.05
SHARPNESS = 5.0


def compound_probs(compound: np.ndarray) -> np.ndarray:
    """Turn VADER compound scores into (n, 3) negative/neutral/positive probabilities.

    A softmax over `(-c, THRESHOLD, c) * SHARPNESS`: its arg-max is VADER's own
    threshold rule, and the probabilities grow with |compound|. They are not calibrated.
    """
    c = np.asarray(compound, dtype=float)
    logits = SHARPNESS * np.stack([-c, np.full_like(c, THRESHOLD), c], axis=1)
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    probs: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return probs


class VaderScorer:
    """The VADER rule-based sentiment analyser (Hutto and Gilbert, 2014) as a `SentimentScorer`.

    Example::

        scorer = VaderScorer()
        scorer.predict("my flight was cancelled again, thanks a lot")[0].label
    """

    def __init__(self) -> None:
        from importlib.metadata import version

        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer: Any = SentimentIntensityAnalyzer()
        self.version = f"vader@{version('vaderSentiment')}"

    def predict_proba(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Return an (n, 3) probability array, in input order (`batch_size` is ignored)."""
        compound = [self._analyzer.polarity_scores(str(t))["compound"] for t in texts]
        return compound_probs(np.array(compound, dtype=float))

    def predict(
        self, texts: str | Sequence[str], batch_size: int = 32
    ) -> list[SentimentPrediction]:
        """Score one text or many, in order."""
        items = [texts] if isinstance(texts, str) else list(texts)
        if not items:
            return []
        return [SentimentPrediction.from_probs(p) for p in self.predict_proba(items, batch_size)]
