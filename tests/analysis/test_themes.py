"""Themes: k by silhouette over embeddings, c-TF-IDF labels, representative posts."""

from __future__ import annotations

import numpy as np

from flarewatch.analysis.themes import c_tf_idf, clean, find_themes

REFUND = [f"@acme still no refund for my cancelled flight {i}, refund please" for i in range(6)]
LOGIN = [f"cannot login to the app, login error again #{i} https://t.co/x" for i in range(4)]


def _vectors(n_a: int, n_b: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    a = np.array([1.0, 0.0, 0.0]) + rng.normal(0, 0.05, (n_a, 3))
    b = np.array([0.0, 1.0, 0.0]) + rng.normal(0, 0.05, (n_b, 3))
    return np.vstack([a, b])


def test_find_themes__two_clusters_labelled_by_their_own_words():
    themes = find_themes(REFUND + LOGIN, _vectors(6, 4), ids=list(range(100, 110)))
    assert [t.size for t in themes] == [6, 4]
    assert "refund" in themes[0].terms and "login" in themes[1].terms
    assert "acme" not in themes[0].terms and "https" not in " ".join(themes[1].terms)
    assert set(themes[1].example_ids) <= set(range(106, 110))
    assert themes[0].share == 0.6 and len(themes[0].examples) == 3


def test_find_themes__too_few_posts_make_one_theme_and_none_makes_none():
    assert len(find_themes(LOGIN[:2], _vectors(0, 2))) == 1
    assert find_themes([], np.zeros((0, 3))) == []


def test_c_tf_idf__stop_terms_and_only_stop_words():
    assert c_tf_idf(["united delay delay", "united bag"], stop_terms=["United"], top=1) == [
        ["delay"],
        ["bag"],
    ]
    assert c_tf_idf(["the and", "of to"]) == [[], []]
    assert clean("@Acme see https://x.co &amp; more").split() == ["see", "more"]
