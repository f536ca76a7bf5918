"""One worker run with the real default model: claims and leases work with the real scorer too."""

from __future__ import annotations

import pytest

from flarewatch.pipeline import WorkerOptions, score_pending
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

from ..conftest import make_post

TEXTS = ("@united my flight got cancelled again, 3 hours on hold", "thanks @delta, great crew!")


@pytest.mark.slow
def test_score_pending__worker_with_default_model_scores_every_post_once(sqlite_engine):
    from flarewatch.models.transformer import load_scorer

    scorer = load_scorer("default")
    with session_scope(sqlite_engine) as s:
        queries.save_posts(s, [make_post(i, TEXTS[i % 2]) for i in range(24)])
    done = score_pending(sqlite_engine, scorer, chunk=10, worker=WorkerOptions("real"))
    with session_scope(sqlite_engine) as s:
        assert (done, queries.count_scores(s, scorer.version)) == (24, 24)
        assert queries.count_claims(s, scorer.version) == 0
        labels = {
            r["text"]: r["label"]
            for r in queries.negative_posts(s, model_version=scorer.version, label=None)
        }
    assert labels[TEXTS[0]] == "negative" and labels[TEXTS[1]] == "positive"
