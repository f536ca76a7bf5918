"""Compare sentiment models on a labelled set: the default model, VADER and any `--model`.

Usage:
    python benchmarks/accuracy.py --suite ROOT [--model NAME_OR_PATH ...] [--quantize] [--json]
    python benchmarks/accuracy.py --data DIR [--split val] [--model NAME_OR_PATH ...] [--json]
    python benchmarks/accuracy.py --csv FILE --text-col text --label-col label [--json]

`--suite` runs `flarewatch model evaluate --suite`'s evaluation: every visible set and split
under the corpus root (TweetEval val, GoEmotions dev/test, Sanders and complaints held-out
slices), with per-class recall and the neutral→negative rate.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from flarewatch.models.base import SentimentPrediction
from flarewatch.models.data import LabelledTexts, read_labelled_csv, read_tweeteval
from flarewatch.models.evaluate import evaluate
from flarewatch.models.suite import format_table, run_suite
from flarewatch.models.transformer import load_scorer

VADER_NEUTRAL_BAND = 0.05  # VADER's own recommended compound-score threshold


class VaderScorer:
    """VADER as a `SentimentScorer`: its neg/neu/pos proportions, label from the compound score."""

    version = "vader@3.3.2"

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.analyzer = SentimentIntensityAnalyzer()

    def predict(
        self, texts: str | Sequence[str], batch_size: int = 32
    ) -> list[SentimentPrediction]:
        items = [texts] if isinstance(texts, str) else texts
        return [self._one(text) for text in items]

    def _one(self, text: str) -> SentimentPrediction:
        scores = self.analyzer.polarity_scores(text)
        compound = scores["compound"]
        winner = (
            0 if compound <= -VADER_NEUTRAL_BAND else 2 if compound >= VADER_NEUTRAL_BAND else 1
        )
        # one-hot on VADER's own decision rule so that argmax-based metrics follow it
        probs = [0.0, 0.0, 0.0]
        probs[winner] = 1.0
        return SentimentPrediction.from_probs(probs)


def load_data(args: argparse.Namespace) -> LabelledTexts:
    if args.csv:
        return read_labelled_csv(args.csv, args.text_col, args.label_col)
    return read_tweeteval(args.data, args.split)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="TweetEval-layout directory")
    source.add_argument("--csv", help="CSV with negative/neutral/positive label words")
    source.add_argument("--suite", help="corpus root: every visible set and split")
    parser.add_argument("--split", default="val")
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="label")
    parser.add_argument("--model", action="append", default=[], help="extra model (repeatable)")
    parser.add_argument("--quantize", action="store_true", help="also run the int8 default")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    scorers = [load_scorer("default"), VaderScorer()]
    scorers += [load_scorer("default", quantize=True)] if args.quantize else []
    scorers += [load_scorer(name) for name in args.model]
    if args.suite:
        rows = run_suite(args.suite, scorers)
        print(json.dumps({"data": args.suite, "rows": rows}) if args.json else format_table(rows))
        return
    data = load_data(args)
    results = [evaluate(scorer, data) for scorer in scorers]
    keep = ("model", "n", "macro_recall", "accuracy", "macro_f1", "ece", "posts_per_s")
    rows = [{k: r[k] for k in keep} for r in results]
    if args.json:
        print(json.dumps({"data": data.source, "results": rows}))
    else:
        for row in rows:
            print("  ".join(f"{k}={v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
