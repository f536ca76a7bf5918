"""A deterministic keyword scorer for tests of the scoring pipeline's mechanics.

Claiming, leases, crash recovery and exactly-once scoring do not depend on what the model says,
so these tests use this instant, dependency-free scorer instead of the transformer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from flarewatch.models.base import SentimentPrediction

NEGATIVE_WORDS = ("cancel", "delay", "lost", "worst", "down", "broken", "hate", "bad")
POSITIVE_WORDS = ("thank", "great", "love", "awesome", "best", "good")


class KeywordScorer:
    """Label by keyword: negative words win over positive ones; `delay` slows each batch."""

    version = "keyword-test-1"

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.texts_seen = 0

    def predict(
        self, texts: str | Sequence[str], batch_size: int = 32
    ) -> list[SentimentPrediction]:
        """Score texts in order, sleeping `delay` seconds per batch to stand in for a model."""
        batch = [texts] if isinstance(texts, str) else list(texts)
        self.texts_seen += len(batch)
        if self.delay:
            time.sleep(self.delay * max(1, -(-len(batch) // batch_size)))
        return [self._one(text.lower()) for text in batch]

    @staticmethod
    def _one(text: str) -> SentimentPrediction:
        if any(w in text for w in NEGATIVE_WORDS):
            return SentimentPrediction.from_probs((0.8, 0.15, 0.05))
        if any(w in text for w in POSITIVE_WORDS):
            return SentimentPrediction.from_probs((0.05, 0.15, 0.8))
        return SentimentPrediction.from_probs((0.1, 0.8, 0.1))
