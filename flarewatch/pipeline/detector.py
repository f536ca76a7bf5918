"""The online spike detector over the store: judge each completed bucket once, keep its state, backtest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from flarewatch.analysis.kpis import label_counts
from flarewatch.analysis.online import (
    AlertEvent,
    DetectorState,
    OnlineParams,
    Replay,
    history_span,
    learning_hours_left,
    state_from_dict,
    state_to_dict,
    step_frame,
)
from flarewatch.pipeline.frames import data_began
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.queries import detector

# A first scan of a store with history judges at most this much of it (silently, to warm up).
CATCH_UP = pd.Timedelta(days=8)
# Alerts for buckets older than this many buckets at scan time are decided but never sent.
MAX_ALERT_AGE = 2
ALERT_FIELDS = ("brand", "bucket_start", "alerted_at", "observed", "expected", "severity")


@dataclass(frozen=True)
class Frame:
    """People posting negatively and all posts per bucket of one brand, and its data start.

    A surge is many people: one angry author posting ten times is one voice, not ten.
    """

    negative: pd.Series
    totals: pd.Series
    first_post: pd.Timestamp | None


def load_frame(
    engine: Engine,
    brand: str | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
    bucket_minutes: int,
    model_version: str | None = None,
) -> Frame:
    """Buckets in [start, end), zero-filled only from the brand's data start on."""
    freq = f"{bucket_minutes}min"
    with session_scope(engine) as session:
        version = model_version or queries.latest_model_version(session) or ""
        began = detector.data_start(session, brand)
        window = {"brand": brand, "start": start.to_pydatetime(), "end": end.to_pydatetime()}
        rows = queries.timeline(
            session, model_version=version, bucket_minutes=bucket_minutes, **window
        )
        authors = detector.negative_authors(
            session, model_version=version, bucket_minutes=bucket_minutes, **window
        )
    index = pd.date_range(start.floor(freq), end.floor(freq), freq=freq, inclusive="left")
    long = pd.DataFrame(rows, columns=["bucket", "label", "count"])
    long["bucket"] = pd.to_datetime(long["bucket"], unit="s", utc=True)
    wide = label_counts(long, "bucket").reindex(index, fill_value=0)
    negative = pd.Series(authors, dtype=float)
    negative.index = pd.to_datetime(negative.index, unit="s", utc=True)
    first = None if began is None else pd.Timestamp(began)
    return Frame(negative.reindex(index, fill_value=0).astype(int), wide["total"], first)


def _completed_end(now: datetime, bucket_minutes: int) -> pd.Timestamp:
    # The bucket still filling up would look like a dip: only complete buckets are judged.
    return pd.Timestamp(now).floor(f"{bucket_minutes}min")


def _stored_state(engine: Engine, brand: str | None, bucket_minutes: int) -> tuple[Any, ...]:
    with session_scope(engine) as session:
        row = detector.load_state(session, brand, bucket_minutes)
        if row is None:
            return DetectorState(), None
        return state_from_dict(row.state), row.event_id


def scan(
    engine: Engine,
    *,
    brand: str | None,
    now: datetime | None = None,
    bucket_minutes: int = 15,
    params: OnlineParams | None = None,
) -> list[int]:
    """Judge the buckets completed since the last scan, once each, and store what was decided.

    Returns:
        Ids of the spike events (alerts) this scan opened.
    """
    params = params or OnlineParams()
    end = _completed_end(now or datetime.now(UTC), bucket_minutes)
    state, event_id = _stored_state(engine, brand, bucket_minutes)
    step = pd.Timedelta(minutes=bucket_minutes)
    judge_from = end - CATCH_UP
    if state.last_bucket is not None:
        judge_from = max(judge_from, state.last_bucket + step)
    if judge_from >= end:
        return []
    frame = load_frame(engine, brand, judge_from - history_span(step, params), end, bucket_minutes)
    replay = step_frame(
        frame.negative, frame.totals, first_post=frame.first_post, state=state,
        start=judge_from, params=params,
    )  # fmt: skip
    return _store(engine, brand, bucket_minutes, replay, event_id, end)


def _store(
    engine: Engine,
    brand: str | None,
    bucket_minutes: int,
    replay: Replay,
    event_id: int | None,
    end: pd.Timestamp,
) -> list[int]:
    oldest = end - MAX_ALERT_AGE * pd.Timedelta(minutes=bucket_minutes)
    opens = [i for i, e in enumerate(replay.events) if e.action == "open"]
    # A surge still running when a late scan catches up is current news, however old its start.
    ongoing = opens[-1] if opens and replay.state.alert_start is not None else None
    opened = []
    with session_scope(engine) as session:
        for index, event in enumerate(replay.events):
            if event.action == "open":
                event_id = None
                if event.bucket_start < oldest and index != ongoing:
                    continue  # decided too late to warn anyone: kept in the state, not sent
                # One surge, one alert: another width that already alerted it keeps the event.
                event_id = detector.open_event_elsewhere(session, brand, bucket_minutes)
                if event_id is None:
                    event_id = queries.open_alert_event(session, brand, event_fields(event))
                    opened.append(event_id)
            elif event_id is not None:
                detector.update_alert_event(session, event_id, _update_fields(event))
        if replay.state.alert_start is None:
            event_id = None
        detector.save_state(
            session, brand, bucket_minutes,
            last_bucket=_py(replay.state.last_bucket), expected=replay.state.expected,
            state=state_to_dict(replay.state), event_id=event_id,
        )  # fmt: skip
    return opened


def _py(value: pd.Timestamp | None) -> datetime | None:
    return None if value is None else value.to_pydatetime()


def event_fields(event: AlertEvent) -> dict[str, Any]:
    """A newly opened alert as spike-event columns."""
    return {
        "kind": "volume",
        "started_at": event.started_at.to_pydatetime(),
        "peak_at": event.bucket_start.to_pydatetime(),
        "detected_at": event.alerted_at.to_pydatetime(),
        "ended_at": event.alerted_at.to_pydatetime(),
        "observed": event.observed,
        "baseline": event.expected,
        "ratio": round(event.observed / max(event.expected, 1e-9), 2),
        "severity": event.severity,
    }


def _update_fields(event: AlertEvent) -> dict[str, Any]:
    fields: dict[str, Any] = {"ended_at": event.alerted_at.to_pydatetime()}
    if event.action == "escalate":
        fields.update(severity=event.severity, peak_at=event.bucket_start.to_pydatetime())
        fields.update(observed=event.observed, baseline=event.expected)
        fields.update(alerted_at=None)  # a higher grade is sent again
    return fields


def backtest(
    engine: Engine,
    *,
    brand: str | None,
    start: datetime,
    end: datetime,
    bucket_minutes: int = 15,
    params: OnlineParams | None = None,
    model_version: str | None = None,
) -> list[dict[str, Any]]:
    """Replay the online detector over stored history exactly as it would have run live.

    Each bucket in [start, end) is judged at its end against the buckets before it; nothing is
    stored. Returns every alert opened, each with `ALERT_FIELDS` and its `started_at`.
    """
    params = params or OnlineParams()
    step = pd.Timedelta(minutes=bucket_minutes)
    first = pd.Timestamp(start).floor(step)
    frame = load_frame(
        engine, brand, first - history_span(step, params), pd.Timestamp(end), bucket_minutes,
        model_version,
    )  # fmt: skip
    replay = step_frame(
        frame.negative, frame.totals, first_post=frame.first_post, start=first, params=params
    )
    return [alert_row(brand, e) for e in replay.events if e.action == "open"]


def alert_row(brand: str | None, event: AlertEvent) -> dict[str, Any]:
    """One alert as plain JSON-ready values."""
    return {
        "brand": brand,
        "bucket_start": event.bucket_start.isoformat(),
        "alerted_at": event.alerted_at.isoformat(),
        "started_at": event.started_at.isoformat(),
        "observed": event.observed,
        "expected": round(float(event.expected), 2),
        "severity": event.severity,
    }


def baseline_hours_left(
    engine: Engine,
    brand: str | None,
    now: datetime | None = None,
    params: OnlineParams | None = None,
) -> float:
    """Hours until the detector has enough history to alert ("learning the baseline, N h left")."""
    began = data_began(engine, brand)
    start = None if began is None else pd.Timestamp(began)
    return learning_hours_left(start, pd.Timestamp(now or datetime.now(UTC)), params)
