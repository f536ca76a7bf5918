"""Fixtures of the model tests: a miniature copy of the shared corpora layout."""

from __future__ import annotations

import csv

import pytest


def _write_csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if header:
            writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def corpus_root(tmp_path):
    """A miniature copy of the shared corpora layout."""
    te = tmp_path / "tweeteval-sentiment"
    te.mkdir()
    (te / "val_text.txt").write_text("the app is down\nnew release today\ngreat fix thanks\n")
    (te / "val_labels.txt").write_text("0\n1\n2\n")
    go_rows = [("this is bad", "negative"), ("is it up?", "neutral"), ("it is down", "neutral")]
    go_rows += [("I love it", "positive")]
    _write_csv(tmp_path / "goemotions" / "dev.csv", ("text", "label"), go_rows)
    _write_csv(tmp_path / "goemotions" / "test.csv", ("text", "label"), go_rows[:2])
    sanders = [
        (f"@apple post {i} {w}", lab)
        for i, (w, lab) in enumerate(
            [("bad", "negative"), ("today", "neutral"), ("great", "positive")] * 20
        )
    ]
    _write_csv(tmp_path / "sanders-twitter" / "all.csv", ("text", "label"), sanders)
    complaints = [(str(i), f"@help order {i} lost", "1", "retail") for i in range(30)]
    complaints += [(str(i), f"@help can I return {i}", "0", "retail") for i in range(30, 60)]
    complaints += [(str(i), f"random {i} bad day", "0", "random_tweet") for i in range(60, 90)]
    _write_csv(
        tmp_path / "complaints-twitter" / "original" / "complaints-data.csv", None, complaints
    )
    return tmp_path


@pytest.fixture
def training_root(corpus_root):
    """`corpus_root` with the training splits of TweetEval and GoEmotions too."""
    te = corpus_root / "tweeteval-sentiment"
    words = [("down again", 0), ("update today", 1), ("works great", 2)] * 8
    (te / "train_text.txt").write_text(
        "".join(f"the app {i} {w}\n" for i, (w, _) in enumerate(words))
    )
    (te / "train_labels.txt").write_text("".join(f"{lab}\n" for _, lab in words))
    go_rows = [
        (f"comment {i} {w}", lab)
        for i, (w, lab) in enumerate(
            [("awful", "negative"), ("a question", "neutral"), ("lovely", "positive")] * 8
        )
    ]
    _write_csv(corpus_root / "goemotions" / "train.csv", ("text", "label"), go_rows)
    return corpus_root
