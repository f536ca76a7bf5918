"""The VADER baseline scorer and the DataFrame review of scorers on labelled data."""

from __future__ import annotations

import numpy as np
import pytest

from flarewatch.models import review
from flarewatch.models.base import SentimentScorer
from flarewatch.models.data import LabelledTexts
from flarewatch.models.vader import VaderScorer, compound_probs

DATA = LabelledTexts(
    ["I hate this airline", "the flight is at 5", "love the crew!", "great, another delay"],
    [0, 1, 2, 0],
    "inline",
)


def test_compound_probs__argmax_follows_vader_thresholds():
    probs = compound_probs(np.array([-0.9, -0.04, 0.0, 0.04, 0.06, 0.9]))
    assert probs.sum(axis=1) == pytest.approx(np.ones(6))
    assert list(probs.argmax(axis=1)) == [0, 1, 1, 1, 2, 2]
    assert probs[5, 2] > probs[4, 2]


def test_vader_scorer__is_a_scorer_and_scores_in_order():
    scorer = VaderScorer()
    assert isinstance(scorer, SentimentScorer) and scorer.version.startswith("vader@")
    labels = [p.label for p in scorer.predict(DATA.texts)]
    assert labels[:3] == ["negative", "neutral", "positive"]
    assert scorer.predict([]) == [] and len(scorer.predict("fine")) == 1


def test_review__metrics_confusion_and_worst_errors():
    predictions = review.score_labelled(VaderScorer(), DATA)
    assert list(predictions.columns) == review.PREDICTION_COLUMNS
    table = review.metrics_table({"vader": predictions})
    assert table.loc["vader", "n"] == 4 and table.loc["vader", "accuracy"] == 0.75
    matrix = review.confusion(predictions)
    assert matrix.loc["negative", "positive"] == 1 and int(matrix.to_numpy().sum()) == 4
    (worst,) = review.worst_errors(predictions).itertuples()
    assert worst.text == "great, another delay" and worst.predicted == "positive"


def test_worst_errors__most_confident_first():
    probs = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6]])
    frame = review.predictions_frame(["a", "b", "c"], [2, 0, 0], probs)
    assert list(review.worst_errors(frame, n=2)["text"]) == ["a", "b"]
