"""Read labelled sentiment data: TweetEval directories and CSV files."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from flarewatch.domain import LABELS


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with gold labels as class indices (0 negative, 1 neutral, 2 positive)."""

    texts: list[str]
    labels: list[int]
    source: str

    def __len__(self) -> int:
        return len(self.texts)


def read_tweeteval(directory: str | Path, split: str) -> LabelledTexts:
    """Read a TweetEval split: `{split}_text.txt` and `{split}_labels.txt`, one item per line.

    Args:
        directory: The TweetEval sentiment directory.
        split: `train`, `val` or `test`.

    Returns:
        The texts and their labels.

    Raises:
        FileNotFoundError: A file of the split is missing.
        ValueError: The files differ in length or a label is not 0, 1 or 2.
    """
    base = Path(directory)
    text_file, label_file = base / f"{split}_text.txt", base / f"{split}_labels.txt"
    for path in (text_file, label_file):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found (expected TweetEval layout)")
    texts = text_file.read_text(encoding="utf-8").splitlines()
    raw = label_file.read_text(encoding="utf-8").split()
    if len(texts) != len(raw):
        raise ValueError(f"{text_file} has {len(texts)} lines but {label_file} has {len(raw)}")
    bad = next((i for i, v in enumerate(raw) if v not in ("0", "1", "2")), None)
    if bad is not None:
        raise ValueError(f"{label_file} line {bad + 1}: label {raw[bad]!r} is not 0, 1 or 2")
    return LabelledTexts(texts, [int(v) for v in raw], f"{base}:{split}")


def read_labelled_csv(
    path: str | Path, text_col: str = "text", label_col: str = "label"
) -> LabelledTexts:
    """Read a CSV whose label column holds the words negative, neutral or positive.

    Args:
        path: The CSV file (with a header row).
        text_col: Column holding the text.
        label_col: Column holding the label word (case-insensitive).

    Returns:
        The texts and their labels.

    Raises:
        ValueError: A column is missing or a row's label is not one of the three words.
    """
    texts: list[str] = []
    labels: list[int] = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in (text_col, label_col) if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: no column {missing[0]!r} (columns: {reader.fieldnames})")
        for row_number, row in enumerate(reader, start=2):
            word = (row[label_col] or "").strip().lower()
            if word not in LABELS:
                raise ValueError(
                    f"{path} row {row_number}: label {row[label_col]!r} is not "
                    "negative, neutral or positive"
                )
            texts.append(row[text_col] or "")
            labels.append(LABELS.index(word))
    return LabelledTexts(texts, labels, str(path))


def sha256_files(*paths: str | Path) -> str:
    """Return the hex SHA-256 of the files' contents, concatenated in order."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
