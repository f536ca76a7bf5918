"""Complaint themes: cluster post embeddings, label clusters by c-TF-IDF terms, pick examples."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.metrics import silhouette_score

NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+|&\w+;")
# Words every complaint uses say nothing about what this complaint is about.
COMPLAINT_WORDS = frozenset(
    {"just", "like", "im", "dont", "don", "amp", "rt", "got", "get", "thanks", "thank", "really"}
)
SILHOUETTE_SAMPLE = 2000


@dataclass(frozen=True)
class Theme:
    """One cluster of posts with its distinctive terms and the posts closest to its centre."""

    label: str
    terms: list[str]
    size: int
    share: float
    examples: list[str] = field(default_factory=list)
    example_ids: list[int] = field(default_factory=list)


def clean(text: str) -> str:
    """Drop links, @mentions and HTML entities, which name the brand rather than the problem."""
    return NOISE.sub(" ", text).lower()


def choose_k(embeddings: np.ndarray, max_k: int, min_size: int, seed: int = 0) -> np.ndarray:
    """Cluster with the k (2..max_k) of best silhouette; one cluster when too few posts."""
    n = len(embeddings)
    best_score, best = -1.0, np.zeros(n, dtype=int)
    distinct = len(np.unique(embeddings.round(6), axis=0))
    for k in range(2, min(max_k, n // max(min_size, 1), distinct) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(embeddings)
        if len(set(labels)) < 2:
            continue
        score = silhouette_score(
            embeddings,
            labels,
            metric="cosine",
            sample_size=min(n, SILHOUETTE_SAMPLE),
            random_state=seed,
        )
        if score > best_score:
            best_score, best = float(score), labels
    return best


def c_tf_idf(
    docs_per_class: Sequence[str], stop_terms: Sequence[str] = (), top: int = 5
) -> list[list[str]]:
    """Top terms per class by class-based TF-IDF (each class's posts joined into one document).

    Weight of term t in class c: tf(t, c) / |c| * log(1 + A / f(t)), with A the average word count
    per class and f(t) the frequency of t across all classes (as in BERTopic).
    """
    stop = list(ENGLISH_STOP_WORDS | COMPLAINT_WORDS | {t.lower() for t in stop_terms})
    vectorizer = CountVectorizer(
        stop_words=stop, ngram_range=(1, 2), token_pattern=r"(?u)\b[a-z][a-z0-9']+\b"
    )
    try:
        counts = vectorizer.fit_transform(docs_per_class).toarray().astype(float)
    except ValueError:  # nothing but stop words
        return [[] for _ in docs_per_class]
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    idf = np.log(1 + counts.sum(axis=1).mean() / np.maximum(counts.sum(axis=0), 1.0))
    weights = tf * idf
    terms = vectorizer.get_feature_names_out()
    return [[str(terms[i]) for i in np.argsort(-row)[:top] if row[i] > 0] for row in weights]


def _examples(embeddings: np.ndarray, members: np.ndarray, count: int) -> list[int]:
    centre = embeddings[members].mean(axis=0)
    norms = np.linalg.norm(embeddings[members], axis=1) * max(np.linalg.norm(centre), 1e-12)
    similarity = embeddings[members] @ centre / np.maximum(norms, 1e-12)
    return [int(members[i]) for i in np.argsort(-similarity)[:count]]


def find_themes(
    texts: Sequence[str],
    embeddings: np.ndarray,
    *,
    ids: Sequence[int] | None = None,
    max_k: int = 8,
    min_size: int = 3,
    top_terms: int = 5,
    examples: int = 3,
    stop_terms: Sequence[str] = (),
) -> list[Theme]:
    """Group posts into themes, largest first.

    Args:
        texts: The posts (typically the negative posts of a spike or incident window).
        embeddings: One row per text, from the model's `embed` (any vectors work).
        ids: Post ids, reported for the representative posts; defaults to positions.
        max_k: Most themes to consider; k is chosen by cosine silhouette.
        min_size: Fewest posts a theme should hold on average.
        top_terms: Distinctive terms per theme.
        examples: Representative posts per theme (closest to the cluster centre).
        stop_terms: Extra words to ignore, such as the brand's own names.

    Returns:
        Themes with label ("term · term · term"), terms, size, share and example posts.
    """
    if len(texts) == 0:
        return []
    texts = list(texts)
    vectors = np.asarray(embeddings, dtype=float)
    labels = choose_k(vectors, max_k, min_size)
    classes = sorted(set(labels.tolist()), key=lambda c: -int((labels == c).sum()))
    docs = [" ".join(clean(texts[i]) for i in np.flatnonzero(labels == c)) for c in classes]
    terms = c_tf_idf(docs, stop_terms, top_terms)
    post_ids = list(ids) if ids is not None else list(range(len(texts)))
    themes = []
    for cls, words in zip(classes, terms, strict=True):
        members = np.flatnonzero(labels == cls)
        picked = _examples(vectors, members, examples)
        themes.append(
            Theme(
                label=" · ".join(words[:3]) or "(no distinctive words)",
                terms=words,
                size=len(members),
                share=round(len(members) / len(texts), 3),
                examples=[texts[i] for i in picked],
                example_ids=[int(post_ids[i]) for i in picked],
            )
        )
    return themes
