"""The brand's public voice during incidents: last update, our posts, the going-dark alarm."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from flarewatch.alerts.channels import AlertSettings, dispatch
from flarewatch.alerts.message import Alert, dashboard_link
from flarewatch.analysis.updates import DEFAULT_SILENCE_LIMITS, Silence, silence_due, update_metrics
from flarewatch.domain import IncidentRecord
from flarewatch.pipeline.frames import LOOKBACK, get_incident, timeline
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

OWN_POST_COLUMNS = ["id", "platform", "external_id", "created_at", "text", "url", "brand"]
RECENT = timedelta(hours=1)


def last_public_update(
    engine: Engine, brand: str | None, *, now: datetime | None = None
) -> datetime | None:
    """When the brand last spoke in public (its own posts or an update sent through Flarewatch)."""
    with session_scope(engine) as session:
        return queries.last_public_update(session, brand, before=now)


def own_posts(
    engine: Engine,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """What the brand said in a window, oldest first: the markers on the Live timeline.

    Its own collected posts, and the updates sent through Flarewatch not collected (yet).
    """
    with session_scope(engine) as session:
        collected = queries.own_posts(session, brand=brand, start=start, end=end)
        sent = queries.sent_updates(session, brand=brand, start=start, end=end)
    seen = {k for r in collected for k in (r["external_id"], r["url"]) if k}
    rows = collected + [r for r in sent if not {r["external_id"], r["url"]} & seen]
    rows.sort(key=lambda r: r["created_at"])
    return pd.DataFrame(rows, columns=OWN_POST_COLUMNS)


def negative_above_baseline(frame: pd.DataFrame, opened_at: datetime, now: datetime) -> bool:
    """Whether negative posts in the last hour exceed the hourly average of the day before opening."""
    index = pd.DatetimeIndex(frame.index)
    recent = frame.loc[index >= pd.Timestamp(now - RECENT), "negative"].sum()
    before = frame.loc[
        (index >= pd.Timestamp(opened_at - LOOKBACK)) & (index < pd.Timestamp(opened_at)),
        "negative",
    ].sum()
    baseline = before / (LOOKBACK / RECENT)
    return bool(recent > baseline and recent > 0)


def incident_silence(
    engine: Engine,
    incident: IncidentRecord,
    now: datetime,
    limits: Mapping[str, timedelta] = DEFAULT_SILENCE_LIMITS,
) -> Silence | None:
    """The silence of an open incident to alert about now, if one is due (once per stretch)."""
    if incident.status != "open" or incident.severity not in limits:
        return None
    frame = timeline(
        engine,
        brand=incident.brand,
        start=incident.opened_at - LOOKBACK,
        end=now,
        bucket_minutes=15,
    )
    with session_scope(engine) as session:
        last = queries.last_public_update(session, incident.brand, before=now)
        alerted = queries.dark_alerted_since(session, incident.id)
    return silence_due(
        severity=incident.severity,
        opened_at=incident.opened_at,
        last_update=last,
        now=now,
        negative_above_baseline=negative_above_baseline(frame, incident.opened_at, now),
        alerted_since=alerted,
        limits=limits,
    )


def silence_alert(incident: IncidentRecord, silence: Silence, base_url: str) -> Alert:
    """The "we are silent" alert for the existing alert channels."""
    minutes = int(silence.silent_for.total_seconds() // 60)
    return Alert(
        brand=incident.brand,
        title=f"We are silent: {incident.brand or 'all brands'} ({incident.severity})",
        started_at=silence.since,
        detected_at=silence.since + silence.silent_for,
        observed=0,
        baseline=0.0,
        ratio=0.0,
        severity=0.0,
        early_warning=False,
        dashboard_url=dashboard_link(base_url, incident.brand, silence.since),
        kind="silence",
        summary=(
            f"No public update for {minutes} min during incident #{incident.id} "
            f"'{incident.title}' (limit {int(silence.limit.total_seconds() // 60)} min) "
            "while negative posts are above baseline"
        ),
    )


def check_going_dark(
    engine: Engine,
    settings: AlertSettings,
    *,
    base_url: str,
    now: datetime | None = None,
    limits: Mapping[str, timedelta] = DEFAULT_SILENCE_LIMITS,
) -> list[dict[str, Any]]:
    """Alert every open incident that has gone dark, once per silence stretch."""
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        open_ones = queries.incident_records(session, "open")
    sent = []
    for incident in open_ones:
        silence = incident_silence(engine, incident, now, limits)
        if silence is None:
            continue
        outcomes = dispatch(settings, silence_alert(incident, silence, base_url))
        with session_scope(engine) as session:
            queries.set_dark_alerted(session, incident.id, silence.since)
        sent.append({"incident_id": incident.id, "since": silence.since, **outcomes})
    return sent


def voice_status(
    engine: Engine,
    incident_id: int,
    *,
    now: datetime | None = None,
    limits: Mapping[str, timedelta] = DEFAULT_SILENCE_LIMITS,
) -> dict[str, Any]:
    """For the Live page: our last public update, minutes since, and whether we are too quiet."""
    incident = get_incident(engine, incident_id)
    now = now or datetime.now(UTC)
    last = last_public_update(engine, incident.brand, now=now)
    since = max(incident.opened_at, last) if last else incident.opened_at
    limit = limits.get(incident.severity)
    return {
        "last_update": last,
        "minutes_since": int((now - since).total_seconds() // 60),
        "limit_minutes": int(limit.total_seconds() // 60) if limit else None,
        "silent": bool(limit and incident.status == "open" and now - since > limit),
    }


def incident_update_metrics(
    engine: Engine, incident_id: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """Time to first public update, count and cadence, longest silence, sentiment around each."""
    incident = get_incident(engine, incident_id)
    end = incident.resolved_at or now or datetime.now(UTC)
    with session_scope(engine) as session:
        own = queries.own_posts(session, brand=incident.brand, start=incident.opened_at, end=end)
        sent = queries.outbound_items(
            session, incident_id=incident_id, kind="update", status="sent"
        )
    # An update we sent comes back as one of our posts when collected: count it once.
    ours = {i for r in sent for i in [*(r["remote_ids"] or []), r["url"]] if i}
    collected = [r["created_at"] for r in own if not {r["external_id"], r["url"]} & ours]
    times = sorted([*collected, *(r["sent_at"] for r in sent if r["sent_at"])])
    frame = timeline(
        engine,
        brand=incident.brand,
        start=incident.opened_at - timedelta(hours=1),
        end=end + timedelta(hours=1),
        bucket_minutes=15,
    )
    return update_metrics(incident.opened_at, end, times, frame)
