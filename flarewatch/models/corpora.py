"""The multi-domain sentiment corpora: readers, held-out slices, training mix and dev set."""

from __future__ import annotations

import csv
import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

from flarewatch.models.base import LABELS
from flarewatch.models.data import read_tweeteval, sha256_files

# Label ids beyond the three classes: the complaints set is complaint vs not, not sentiment.
COMPLAINT, NOT_COMPLAINT = 3, 4
SENTIMENT, COMPLAINTS = "sentiment", "complaint"
DOMAINS = ("tweeteval", "goemotions", "sanders", "complaints")
FOLDERS = {
    "tweeteval": "tweeteval-sentiment",
    "goemotions": "goemotions",
    "sanders": "sanders-twitter",
    "complaints": "complaints-twitter",
}
HOLD_OUT = {"train": (0, 60), "dev": (60, 75), "test": (75, 100)}  # percent buckets
BRAND_FREE = ("random_reply", "random_tweet")  # complaint-set rows not addressed to a brand
_KEY_LINKS = re.compile(r"https?://\S+|@\w+|^\s*rt\b")
_KEY_OTHER = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Corpus:
    """Texts of one domain and split; `kind` says whether labels are sentiment or complaint."""

    domain: str
    split: str
    texts: list[str]
    labels: list[int]
    kind: str = SENTIMENT

    def __len__(self) -> int:
        return len(self.texts)


def is_corpus_root(path: str | Path) -> bool:
    """Whether `path` holds the shared corpora (a TweetEval folder and at least one other)."""
    root = Path(path)
    return (root / FOLDERS["tweeteval"]).is_dir() and (root / FOLDERS["goemotions"]).is_dir()


def dedup_key(text: str) -> str:
    """Text reduced to letters and digits (no links, mentions, leading RT): retweets collide."""
    return _KEY_OTHER.sub("", _KEY_LINKS.sub("", text.lower()))


def bucket(text: str) -> int:
    """A stable 0-99 bucket from the text's `dedup_key`, so near-duplicates share a slice."""
    return int(hashlib.sha256(dedup_key(text).encode()).hexdigest()[:8], 16) % 100


def held_out(texts: list[str], labels: list[int], split: str) -> tuple[list[str], list[int]]:
    """Keep the rows whose bucket falls in `split` (train 60%, dev 15%, test 25%)."""
    low, high = HOLD_OUT[split]
    keep = [i for i, t in enumerate(texts) if low <= bucket(t) < high]
    return [texts[i] for i in keep], [labels[i] for i in keep]


def read_goemotions(root: Path, split: str) -> Corpus:
    """GoEmotions mapped to 3 classes (SOURCES.md rule), official `train`/`dev`/`test`."""
    rows = _csv_rows(root / FOLDERS["goemotions"] / f"{split}.csv")
    return Corpus("goemotions", split, [r[0] for r in rows], [LABELS.index(r[1]) for r in rows])


def read_sanders(root: Path, split: str) -> Corpus:
    """Sanders tweets about four tech brands; no official split, so a hashed held-out slice."""
    rows = _csv_rows(root / FOLDERS["sanders"] / "all.csv")
    texts, labels = held_out([r[0] for r in rows], [LABELS.index(r[1]) for r in rows], split)
    return Corpus("sanders", split, texts, labels)


def read_complaints(root: Path, split: str, *, brands_only: bool = False) -> Corpus:
    """Complaints to brands (label `COMPLAINT` / `NOT_COMPLAINT`), hashed held-out slice.

    Args:
        root: The corpora folder.
        split: `train`, `dev` or `test`.
        brands_only: Drop the random tweets and replies, which address no brand.
    """
    path = root / FOLDERS["complaints"] / "original" / "complaints-data.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.reader(handle) if not (brands_only and r[3] in BRAND_FREE)]
    labels = [COMPLAINT if r[2] == "1" else NOT_COMPLAINT for r in rows]
    texts, kept = held_out([r[1] for r in rows], labels, split)
    return Corpus("complaints", split, texts, kept, COMPLAINTS)


def read_domain(root: str | Path, domain: str, split: str) -> Corpus:
    """Read one domain's split; TweetEval's `dev` is its `val` file."""
    base = Path(root)
    if domain == "tweeteval":
        data = read_tweeteval(base / FOLDERS[domain], "val" if split == "dev" else split)
        return Corpus(domain, split, data.texts, data.labels)
    if domain == "goemotions":
        return read_goemotions(base, split)
    if domain == "sanders":
        return read_sanders(base, split)
    return read_complaints(base, split, brands_only=True)


def _csv_rows(path: Path) -> list[tuple[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [(r["text"], r["label"]) for r in csv.DictReader(handle)]


def domain_shares(sizes: dict[str, int], power: float) -> dict[str, float]:
    """Sampling share of each domain, proportional to size**power (0: equal, 1: natural)."""
    weights = {d: n**power for d, n in sizes.items() if n}
    total = sum(weights.values())
    return {d: w / total for d, w in weights.items()}


def training_mix(
    corpora: list[Corpus], total: int, seed: int, power: float = 0.5, max_repeat: float = 2.0
) -> list[tuple[str, int, str]]:
    """Draw a domain-balanced training set of about `total` (text, label, domain) rows.

    Each domain gets a `domain_shares` part of `total`; small domains are repeated at most
    `max_repeat` times, large ones sampled without replacement. Seeded and shuffled.
    """
    rng = random.Random(seed)
    shares = domain_shares({c.domain: len(c) for c in corpora}, power)
    rows: list[tuple[str, int, str]] = []
    for corpus in corpora:
        want = min(round(total * shares[corpus.domain]), int(len(corpus) * max_repeat))
        order: list[int] = []
        while len(order) < want:
            order += rng.sample(range(len(corpus)), len(corpus))
        rows += [(corpus.texts[i], corpus.labels[i], corpus.domain) for i in order[:want]]
    rng.shuffle(rows)
    return rows


def subsample(corpus: Corpus, limit: int, seed: int) -> Corpus:
    """At most `limit` rows of a corpus, a seeded sample in original order."""
    if len(corpus) <= limit:
        return corpus
    keep = sorted(random.Random(seed).sample(range(len(corpus)), limit))
    return Corpus(
        corpus.domain,
        corpus.split,
        [corpus.texts[i] for i in keep],
        [corpus.labels[i] for i in keep],
        corpus.kind,
    )


def corpora_sha256(root: str | Path) -> str:
    """One hash over every file the corpora are read from."""
    base = Path(root)
    return sha256_files(
        base / FOLDERS["tweeteval"] / "train_text.txt",
        base / FOLDERS["tweeteval"] / "train_labels.txt",
        base / FOLDERS["goemotions"] / "train.csv",
        base / FOLDERS["sanders"] / "all.csv",
        base / FOLDERS["complaints"] / "original" / "complaints-data.csv",
    )
