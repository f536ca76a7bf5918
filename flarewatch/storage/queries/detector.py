"""Reads and writes of the online spike detector: its state, data start and alert events."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from flarewatch.storage.queries._sql import bucket_epoch, effective_label, score_window
from flarewatch.storage.queries.views import reviewed_unscored
from flarewatch.storage.schema import (
    DetectorState,
    Post,
    SentimentScore,
    SpikeAlertDelivery,
    SpikeEvent,
    UTCDateTime,
    utcnow,
)

_UTC = UTCDateTime()


def _key(brand: str | None) -> str:
    return brand or ""


def load_state(session: Session, brand: str | None, bucket_minutes: int) -> DetectorState | None:
    """The stored detector state of a brand (None: every brand) and bucket width, if any."""
    return session.get(DetectorState, (_key(brand), bucket_minutes))


def save_state(
    session: Session,
    brand: str | None,
    bucket_minutes: int,
    *,
    last_bucket: datetime | None,
    expected: float | None,
    state: dict[str, Any],
    event_id: int | None,
) -> None:
    """Store what the detector decided up to `last_bucket`."""
    row = load_state(session, brand, bucket_minutes)
    if row is None:
        row = DetectorState(brand=_key(brand), bucket_minutes=bucket_minutes)
        session.add(row)
    row.last_bucket, row.expected, row.state = last_bucket, expected, state
    row.event_id, row.updated_at = event_id, utcnow()


def data_start(session: Session, brand: str | None) -> datetime | None:
    """When the brand's data began: its first collected post (on any platform)."""
    stmt = select(func.min(Post.created_at))
    if brand is not None:
        stmt = stmt.where(Post.brand == brand)
    first = session.scalar(stmt)
    return _UTC.process_result_value(first, session.get_bind().dialect)


def update_alert_event(session: Session, event_id: int, fields: dict[str, Any]) -> None:
    """Grow (escalate) or end (close) a stored alert event."""
    event = session.get(SpikeEvent, event_id)
    if event is None:
        return
    for key, value in fields.items():
        setattr(event, key, value)
    event.updated_at = utcnow()
    if "alerted_at" in fields and fields["alerted_at"] is None:
        # Sent again (escalated): every destination is owed the new alert.
        session.execute(delete(SpikeAlertDelivery).where(SpikeAlertDelivery.event_id == event_id))


def open_event_elsewhere(session: Session, brand: str | None, bucket_minutes: int) -> int | None:
    """The alert another bucket width of the brand's detector holds open, if any."""
    stmt = select(DetectorState.event_id).where(
        DetectorState.brand == _key(brand),
        DetectorState.bucket_minutes != bucket_minutes,
        DetectorState.event_id.is_not(None),
    )
    return session.scalars(stmt.limit(1)).first()


def negative_authors(
    session: Session,
    *,
    model_version: str,
    bucket_minutes: int,
    brand: str | None,
    start: datetime,
    end: datetime,
) -> Counter[int]:
    """People posting negatively per bucket (epoch seconds): each author counts once a bucket.

    A post without a known author counts alone; labels are a reviewer's where one was set.
    """
    seconds = bucket_minutes * 60
    bucket = bucket_epoch(session, SentimentScore.created_at, seconds).label("bucket")
    who = func.coalesce(SentimentScore.author_id, -SentimentScore.post_id)
    stmt = score_window(model_version, brand, start, end).add_columns(
        bucket, func.count(func.distinct(who))
    )
    stmt = stmt.where(effective_label() == "negative").group_by(bucket)
    counts: Counter[int] = Counter({int(b): int(n) for b, n in session.execute(stmt)})
    # Posts a reviewer marked negative before the model scored them: few, each counted alone.
    for at, label in reviewed_unscored(session, model_version, brand, start, end):
        if label == "negative":
            counts[int(at.timestamp()) // seconds * seconds] += 1
    return counts
