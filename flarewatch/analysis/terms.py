"""Terms that set one group of posts apart from another: weighted log-odds with a prior."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer

TERM_COLUMNS = ["term", "focus_count", "background_count", "z"]
# Words only: handles, hashtags, links and numbers say who and when, not what people complain about.
NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")
TOKEN_PATTERN = r"(?u)\b[a-z][a-z']*[a-z]\b"


def _clean(text: str) -> str:
    return NOISE.sub(" ", text.lower())


def _counts(texts: list[str], vectorizer: CountVectorizer) -> np.ndarray:
    return np.asarray(vectorizer.transform(texts).sum(axis=0)).ravel().astype(float)


def distinctive_terms(
    focus: Iterable[str],
    background: Iterable[str],
    *,
    n: int = 20,
    min_count: int = 3,
    ngram_range: tuple[int, int] = (1, 2),
) -> pd.DataFrame:
    """Rank the terms most over-represented in `focus` compared with `background`.

    Uses the weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and
    Quinn, 2008): frequent words are not favoured just for being frequent, and rare ones are not
    favoured for a lucky count. English stop words are dropped.

    Args:
        focus: Texts to describe, e.g. negative posts during an incident.
        background: Texts to contrast them with, e.g. every post of the days before.
        n: How many terms to return.
        min_count: Fewest times a term must occur in `focus`.
        ngram_range: Word n-gram lengths to consider.

    Returns:
        Up to `n` rows with `TERM_COLUMNS`, highest z-score (most distinctive) first.
    """
    focus_texts, background_texts = [str(t) for t in focus], [str(t) for t in background]
    if not focus_texts:
        return pd.DataFrame(columns=TERM_COLUMNS)
    vectorizer = CountVectorizer(
        preprocessor=_clean,
        stop_words="english",
        token_pattern=TOKEN_PATTERN,
        ngram_range=ngram_range,
    )
    vectorizer.fit(focus_texts + background_texts)
    y_focus, y_back = _counts(focus_texts, vectorizer), _counts(background_texts, vectorizer)
    prior = y_focus + y_back + 0.01
    n_focus, n_back, a0 = y_focus.sum(), y_back.sum(), prior.sum()
    delta = np.log((y_focus + prior) / (n_focus + a0 - y_focus - prior)) - np.log(
        (y_back + prior) / (n_back + a0 - y_back - prior)
    )
    z = delta / np.sqrt(1 / (y_focus + prior) + 1 / (y_back + prior))
    frame = pd.DataFrame(
        {
            "term": vectorizer.get_feature_names_out(),
            "focus_count": y_focus.astype(int),
            "background_count": y_back.astype(int),
            "z": z,
        }
    )
    frame = frame[frame["focus_count"] >= min_count]
    return frame.sort_values("z", ascending=False, ignore_index=True).head(n)
