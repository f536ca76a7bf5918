"""The evaluation suite: every visible labelled set and split, several scorers side by side."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flarewatch.models.base import SentimentScorer
from flarewatch.models.corpora import COMPLAINTS, Corpus, read_domain
from flarewatch.models.evaluate import scorer_probs
from flarewatch.models.metrics import classification_report, complaint_report

SETS = (
    ("tweeteval", "dev"),
    ("goemotions", "dev"),
    ("goemotions", "test"),
    ("sanders", "dev"),
    ("sanders", "test"),
    ("complaints", "dev"),
    ("complaints", "test"),
)
SENTIMENT_COLUMNS = ("n", "accuracy", "macro_recall", "macro_f1", "recall", "neu_to_neg", "ece")
COMPLAINT_COLUMNS = ("n", "complaint_negative", "not_complaint_negative")


def suite_sets(root: str | Path) -> list[Corpus]:
    """Every visible set and split of the suite that exists under `root`, in `SETS` order."""
    found: list[Corpus] = []
    for domain, split in SETS:
        try:
            found.append(read_domain(root, domain, split))
        except FileNotFoundError:
            continue
    return found


def suite_row(scorer: SentimentScorer, corpus: Corpus, batch_size: int = 32) -> dict[str, Any]:
    """One scorer on one set: sentiment metrics, or how complaints are read."""
    probs = scorer_probs(scorer, corpus.texts, batch_size)
    row: dict[str, Any] = {"set": corpus.domain, "split": corpus.split, "model": scorer.version}
    if corpus.kind == COMPLAINTS:
        return {**row, **complaint_report(corpus.labels, probs)}
    report = classification_report(corpus.labels, probs)
    return {
        **row,
        **{k: report[k] for k in ("n", "accuracy", "macro_recall", "macro_f1", "ece")},
        "recall": report["recall_per_class"],
        "neu_to_neg": report["neutral_to_negative"],
    }


def run_suite(
    root: str | Path, scorers: Sequence[SentimentScorer], batch_size: int = 32
) -> list[dict[str, Any]]:
    """Score every suite set with every scorer; rows are grouped by set, scorers in order."""
    return [suite_row(s, corpus, batch_size) for corpus in suite_sets(root) for s in scorers]


def format_table(rows: list[dict[str, Any]]) -> str:
    """The suite rows as two Markdown tables: 3-class sentiment sets, then complaints."""
    sentiment = [r for r in rows if "macro_recall" in r]
    complaint = [r for r in rows if "complaint_negative" in r]
    parts = []
    if sentiment:
        head = (
            "| set | split | model | n | acc | macro R | macro F1 | R neg/neu/pos | neu→neg | ECE |"
        )
        parts.append("\n".join([head, "|" + " --- |" * 10, *map(_sentiment_line, sentiment)]))
    if complaint:
        head = "| set | split | model | n | complaints → negative | not complaints → negative |"
        parts.append("\n".join([head, "|" + " --- |" * 6, *map(_complaint_line, complaint)]))
    return "\n\n".join(parts)


def _sentiment_line(r: dict[str, Any]) -> str:
    recall = "/".join(f"{x:.3f}" for x in r["recall"])
    return (
        f"| {r['set']} | {r['split']} | {r['model']} | {r['n']} | {r['accuracy']:.3f} | "
        f"{r['macro_recall']:.3f} | {r['macro_f1']:.3f} | {recall} | {r['neu_to_neg']:.3f} | "
        f"{r['ece']:.3f} |"
    )


def _complaint_line(r: dict[str, Any]) -> str:
    return (
        f"| {r['set']} | {r['split']} | {r['model']} | {r['n']} | "
        f"{r['complaint_negative']:.3f} | {r['not_complaint_negative']:.3f} |"
    )


def suite_report(
    root: str | Path,
    models: Sequence[str],
    quantize: bool = False,
    precision: str = "auto",
    as_json: bool = False,
) -> str:
    """What `flarewatch model evaluate --suite` prints: the models and VADER on every set."""
    import json

    from flarewatch.models.transformer import load_scorer
    from flarewatch.models.vader import VaderScorer

    scorers: list[SentimentScorer] = [
        load_scorer(name, quantize=quantize, precision=precision) for name in models
    ]
    rows = run_suite(root, [*scorers, VaderScorer()])
    return json.dumps({"data": str(root), "rows": rows}) if as_json else format_table(rows)
