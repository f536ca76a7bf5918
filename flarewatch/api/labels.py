"""Reviewers' labels: set, clear and export them; they win over the model's everywhere."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

LABEL_COLUMNS = ["post_id", "text", "label", "labelled_by", "labelled_at", "model_label"]


def set_label(
    engine: Engine,
    post_id: int,
    label: str,
    *,
    labelled_by: str | None = None,
    note: str | None = None,
) -> None:
    """Set (or replace) a reviewer's label for a post."""
    with session_scope(engine) as session:
        queries.set_label_override(session, post_id, label, labelled_by=labelled_by, note=note)


def clear_label(engine: Engine, post_id: int) -> bool:
    """Remove a post's reviewer label; False when it had none."""
    with session_scope(engine) as session:
        return queries.clear_label_override(session, post_id)


def labels(engine: Engine, model_version: str | None = None) -> pd.DataFrame:
    """Every reviewer label with its post's text (and `model_version`'s label, if given)."""
    with session_scope(engine) as session:
        rows = queries.label_overrides(session, model_version)
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)
