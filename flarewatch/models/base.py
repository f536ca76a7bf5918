"""What every sentiment scorer returns and the protocol it implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from flarewatch.domain import LABELS


@dataclass(frozen=True)
class SentimentPrediction:
    """One text's sentiment: the winning label and the three class probabilities."""

    label: str
    p_negative: float
    p_neutral: float
    p_positive: float

    @classmethod
    def from_probs(cls, probs: Sequence[float]) -> SentimentPrediction:
        """Build a prediction from probabilities ordered negative, neutral, positive."""
        neg, neu, pos = (float(p) for p in probs)
        best = max(range(3), key=lambda i: (neg, neu, pos)[i])
        return cls(LABELS[best], neg, neu, pos)


@runtime_checkable
class SentimentScorer(Protocol):
    """A sentiment model: `version` names it in stored scores, `predict` scores texts."""

    version: str

    def predict(
        self, texts: str | Sequence[str], batch_size: int = 32
    ) -> list[SentimentPrediction]:
        """Score one text or many, in order."""
        ...
