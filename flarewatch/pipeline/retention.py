"""Data retention: strip post text and author profile data older than a date, keep the counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from flarewatch.storage import queries
from flarewatch.storage.engine import checkpoint_wal, session_scope
from flarewatch.storage.queries import PurgeResult


def purge(engine: Engine, before: datetime) -> PurgeResult:
    """Purge personal data of posts created before `before`, in one transaction.

    See docs/privacy.md for exactly what is removed and what is kept.

    Args:
        engine: The database.
        before: Aware datetime; posts created earlier lose their text, URL and raw payload, and
            authors with no post on or after it lose their profile data.

    Returns:
        How many posts and authors were purged by this call (already purged ones are skipped).
    """
    if before.tzinfo is None:
        raise ValueError("--before needs a time zone or a plain date (taken as UTC)")
    with session_scope(engine) as session:
        result = queries.purge_before(session, before)
    checkpoint_wal(engine)
    return result
