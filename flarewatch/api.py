"""Public DataFrame API over the store, shared by the dashboard, the CLI and notebooks."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from flarewatch import monitor
from flarewatch.alerts.channels import AlertSettings, dispatch
from flarewatch.alerts.message import alert_from_event
from flarewatch.analysis.compare import SUMMARY_COLUMNS, RecoveryParams, summarise_incident
from flarewatch.analysis.kpis import label_counts
from flarewatch.analysis.online import OnlineParams
from flarewatch.analysis.outreach import OUTREACH_COLUMNS, rank_authors
from flarewatch.analysis.report import (
    IncidentReport,
    Posture,
    build_report,
    render_html,
    render_markdown,
)
from flarewatch.analysis.report import marketing_posture as report_posture
from flarewatch.analysis.spikes import Spike, SpikeParams, detect_spikes
from flarewatch.analysis.themes import Theme, find_themes
from flarewatch.config import load_settings
from flarewatch.incidents.events import IncidentEvent, apply_event
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade
from flarewatch.storage.schema import LABELS, OTHER_LANGUAGE, Incident

__all__ = [
    "COMPARE_COLUMNS",
    "OUTREACH_TABLE_COLUMNS",
    "POST_COLUMNS",
    "SPIKE_EVENT_COLUMNS",
    "THEME_COLUMNS",
    "TIMELINE_COLUMNS",
    "apply_incident_event",
    "baseline_hours_left",
    "compare_incidents",
    "connect",
    "default_embedder",
    "early_warnings",
    "get_incident",
    "incident_report",
    "incident_window",
    "incidents",
    "latest_complaints",
    "marketing_posture",
    "negative_posts",
    "outreach",
    "outreach_authors",
    "posts",
    "report",
    "resolve_model_version",
    "scan_spikes",
    "send_spike_alerts",
    "set_outreach",
    "set_warning_status",
    "spike_events",
    "spikes",
    "themes",
    "timeline",
    "window_spikes",
    "with_complaints",
]

LOOKBACK = timedelta(hours=24)
# The seasonal baseline compares each bucket with the same time on up to a week of earlier days.
SPIKE_HISTORY = timedelta(days=7)
AFTERMATH = timedelta(hours=24)
# `scored` counts posts with a sentiment; other-language and unscored posts are left out of rates.
OUTREACH_TABLE_COLUMNS = [
    *OUTREACH_COLUMNS,
    "latest_post",
    "latest_url",
    "status",
    "assignee",
    "note",
]
TIMELINE_COLUMNS = [*LABELS, OTHER_LANGUAGE, "unscored", "total", "scored", "negative_share"]
INCIDENT_COLUMNS = ["id", "title", "brand", "severity", "status", "opened_at", "resolved_at"]
POST_COLUMNS = [
    "id",
    "created_at",
    "platform",
    "brand",
    "text",
    "url",
    "author_id",
    "handle",
    "followers",
    "like_count",
    "repost_count",
    "reply_count",
    "quote_count",
    "label",
    "model_label",
    "p_negative",
    "p_neutral",
    "p_positive",
]
COMPARE_COLUMNS = [*INCIDENT_COLUMNS, "bucket_minutes", *SUMMARY_COLUMNS]


def connect(database_url: str | None = None) -> Engine:
    """Open (and migrate) the configured database, or `database_url` if given."""
    engine = make_engine(load_settings(database_url=database_url).database_url)
    upgrade(engine)
    return engine


def resolve_model_version(engine: Engine, model_version: str | None = None) -> str:
    """Return `model_version`, else the one that scored most recently ('' when nothing is scored)."""
    if model_version:
        return model_version
    with session_scope(engine) as session:
        return queries.latest_model_version(session) or ""


def incidents(engine: Engine) -> pd.DataFrame:
    """All incidents, newest first, as a DataFrame."""
    with session_scope(engine) as session:
        rows = [_incident_row(i) for i in queries.list_incidents(session)]
    return pd.DataFrame(rows, columns=INCIDENT_COLUMNS)


def _incident_row(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "brand": incident.brand,
        "severity": incident.severity,
        "status": incident.status,
        "opened_at": incident.opened_at,
        "resolved_at": incident.resolved_at,
    }


def get_incident(engine: Engine, incident_id: int) -> Incident:
    """Return one incident (detached, safe to read after the session closes)."""
    with session_scope(engine) as session:
        return queries.get_incident(session, incident_id)


def incident_window(
    engine: Engine, incident: Incident, lookback: timedelta = LOOKBACK, after: timedelta = AFTERMATH
) -> tuple[datetime, datetime]:
    """The time range an incident is judged on: a day before it opened to a day after it closed."""
    start = incident.opened_at - lookback
    if incident.resolved_at is not None:
        return start, incident.resolved_at + after
    with session_scope(engine) as session:
        _, last = queries.time_range(session, incident.brand)
    now = datetime.now(UTC)
    return start, max(now, last) + timedelta(seconds=1) if last else now


def timeline(
    engine: Engine,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket_minutes: int = 15,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Posts per bucket by sentiment label, zero-filled, indexed by bucket start (UTC)."""
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        rows = queries.sentiment_buckets(
            session,
            model_version=version,
            bucket_minutes=bucket_minutes,
            brand=brand,
            start=start,
            end=end,
        )
    return _pivot_buckets(rows, bucket_minutes, start, end)


def _pivot_buckets(
    rows: list[tuple[int, str, int]],
    bucket_minutes: int,
    start: datetime | None,
    end: datetime | None,
) -> pd.DataFrame:
    freq = f"{bucket_minutes}min"
    long = pd.DataFrame(rows, columns=["bucket", "label", "count"])
    long["bucket"] = pd.to_datetime(long["bucket"], unit="s", utc=True)
    wide = label_counts(long, "bucket")
    first = pd.Timestamp(start).floor(freq) if start else (wide.index.min() if len(wide) else None)
    last = pd.Timestamp(end).floor(freq) if end else (wide.index.max() if len(wide) else None)
    if first is not None and last is not None:
        wide = wide.reindex(pd.date_range(first, last, freq=freq, name="bucket"), fill_value=0)
    return wide


def spikes(frame: pd.DataFrame, params: SpikeParams | None = None) -> list[Spike]:
    """Detect spikes in negative volume and negative share in a `timeline` frame."""
    return detect_spikes(frame["negative"], params, totals=frame["scored"])


def window_spikes(
    engine: Engine,
    *,
    brand: str | None,
    start: datetime,
    end: datetime,
    bucket_minutes: int = 15,
    history: timedelta = SPIKE_HISTORY,
    model_version: str | None = None,
) -> list[Spike]:
    """Spikes overlapping [start, end), judged against `history` before it (seasonal baseline).

    An analyst's retrospective view: it recomputes, never alerts, and starts at the brand's
    data start, so the hours before collection began never read as calm.
    """
    began = monitor.data_began(engine, brand)
    frame = timeline(
        engine,
        brand=brand,
        start=max(start - history, began) if began else start - history,
        end=end,
        bucket_minutes=bucket_minutes,
        model_version=model_version,
    )
    return [s for s in spikes(frame) if s.end >= pd.Timestamp(start).floor(f"{bucket_minutes}min")]


def negative_posts(
    engine: Engine,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    model_version: str | None = None,
    limit: int = 50,
) -> pd.DataFrame:
    """The newest negative posts with author, link and p_negative."""
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        rows = queries.newest_posts(
            session, model_version=version, brand=brand, start=start, end=end, limit=limit
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "created_at",
            "platform",
            "text",
            "url",
            "handle",
            "followers",
            "label",
            "p_negative",
        ],
    )


def outreach(
    engine: Engine,
    incident_id: int,
    *,
    now: datetime | None = None,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Unhappy authors of an incident ranked by priority, with reason, latest complaint and status."""
    ranked = outreach_authors(engine, incident_id, now=now, model_version=model_version)
    complaints = latest_complaints(
        engine, incident_id, ranked["author_id"].tolist(), model_version=model_version
    )
    return with_complaints(ranked, complaints)


def outreach_authors(
    engine: Engine,
    incident_id: int,
    *,
    now: datetime | None = None,
    model_version: str | None = None,
) -> pd.DataFrame:
    """`outreach` without the latest complaint texts: cheaper when only some rows are shown."""
    window = _incident_scope(engine, incident_id, model_version)
    with session_scope(engine) as session:
        rows = queries.author_activity(session, **window)
        states = queries.outreach_states(session, incident_id)
    ranked = rank_authors(rows, now or min(window["end"], datetime.now(UTC)))
    ids = ranked["author_id"]
    ranked["status"] = ids.map({a: s["status"] for a, s in states.items()}).fillna("new")
    for column in ("assignee", "note"):
        ranked[column] = _none_for_missing(ids.map({a: s[column] for a, s in states.items()}))
    return ranked[[*OUTREACH_COLUMNS, "status", "assignee", "note"]]


def _none_for_missing(values: pd.Series) -> pd.Series:
    # `map` leaves NaN where nothing matched; editors and CSVs would show (and save) "nan".
    return values.astype(object).where(values.notna(), None)


def latest_complaints(
    engine: Engine,
    incident_id: int,
    author_ids: Sequence[int],
    *,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Each author's newest negative post in an incident's window: `latest_post`, `latest_url`."""
    window = _incident_scope(engine, incident_id, model_version)
    with session_scope(engine) as session:
        latest = queries.latest_negative_post(session, author_ids, **window)
    frame = pd.DataFrame(
        [(a, p["text"], p["url"]) for a, p in latest.items()],
        columns=["author_id", "latest_post", "latest_url"],
    )
    return frame.set_index("author_id")


def _incident_scope(engine: Engine, incident_id: int, model_version: str | None) -> dict[str, Any]:
    """The model version, brand and window an incident's queries run on."""
    incident = get_incident(engine, incident_id)
    start, end = incident_window(engine, incident)
    version = resolve_model_version(engine, model_version)
    return {"model_version": version, "brand": incident.brand, "start": start, "end": end}


def with_complaints(ranked: pd.DataFrame, complaints: pd.DataFrame) -> pd.DataFrame:
    """`outreach_authors` rows with their `latest_complaints`, in `OUTREACH_TABLE_COLUMNS` order."""
    joined = ranked.join(complaints, on="author_id")
    for column in complaints.columns:
        joined[column] = _none_for_missing(joined[column])
    return joined[OUTREACH_TABLE_COLUMNS]


def posts(
    engine: Engine,
    *,
    incident_id: int | None = None,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    platform: str | None = None,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Posts with author, engagement and sentiment scores, oldest first.

    Args:
        engine: The database.
        incident_id: Limit to an incident: its brand and window (`incident_window`), unless
            `brand`, `start` or `end` are given, which win.
        brand: Only posts about this brand.
        start: Only posts created at or after this time.
        end: Only posts created before this time.
        platform: Only posts from this platform (`x`, `reddit`, ...).
        model_version: Whose scores to show (default: the most recent model).

    Returns:
        One row per post with `POST_COLUMNS`: `label` is a reviewer's label where one was set
        (`flarewatch label set`), else the model's, which `model_label` keeps. Posts neither
        scored nor reviewed have no label; unscored posts have NaN probabilities.
    """
    if incident_id is not None:
        incident = get_incident(engine, incident_id)
        window_start, window_end = incident_window(engine, incident)
        brand = brand if brand is not None else incident.brand
        start, end = start or window_start, end or window_end
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        rows = queries.posts_with_scores(
            session, model_version=version, brand=brand, start=start, end=end, platform=platform
        )
    frame = pd.DataFrame(rows, columns=POST_COLUMNS)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def compare_incidents(
    engine: Engine,
    *,
    bucket_minutes: int = 60,
    model_version: str | None = None,
    params: RecoveryParams | None = None,
) -> pd.DataFrame:
    """Compare every incident: peak negativity, duration, time back to baseline and volume.

    Args:
        engine: The database.
        bucket_minutes: Bucket size of the timelines the peak and recovery are measured on.
        model_version: Whose scores to count (default: the most recent model).
        params: What counts as back to baseline after resolution.

    Returns:
        One row per incident, newest first, with `COMPARE_COLUMNS` (see
        `analysis.compare.summarise_incident` for what each measure means).
    """
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        found = queries.list_incidents(session)
    rows = [_compare_row(engine, i, bucket_minutes, version, params) for i in found]
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def _compare_row(
    engine: Engine,
    incident: Incident,
    bucket_minutes: int,
    model_version: str,
    params: RecoveryParams | None,
) -> dict[str, Any]:
    start, end = incident_window(engine, incident)
    frame = timeline(
        engine,
        brand=incident.brand,
        start=start,
        end=end,
        bucket_minutes=bucket_minutes,
        model_version=model_version,
    )
    summary = summarise_incident(frame, incident.opened_at, incident.resolved_at, params)
    return {**_incident_row(incident), "bucket_minutes": bucket_minutes, **summary}


# --- incident analytics: spikes and early warnings, themes, posture, report, outreach ---------

THEME_COLUMNS = ["label", "terms", "size", "share", "examples", "example_ids"]
SPIKE_EVENT_COLUMNS = list(queries.SPIKE_EVENT_FIELDS)


class Embedder(Protocol):
    """Anything with the model's `embed(texts, batch_size) -> array` (one row per text)."""

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray: ...


@functools.lru_cache(maxsize=2)
def default_embedder(model: str | None = None) -> Embedder:
    """The configured sentiment model, loaded once, whose `embed` gives theme embeddings."""
    from flarewatch.models.transformer import load_scorer

    return load_scorer(model or load_settings().model)


def themes(
    engine: Engine,
    *,
    incident_id: int | None = None,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    embedder: Embedder | None = None,
    limit: int = 2000,
    max_k: int = 8,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Complaint themes of the negative posts in a window (an incident's, unless given).

    Args:
        engine: The database.
        incident_id: Use this incident's brand, window and brand terms (as stop words).
        brand: Only posts about this brand.
        start: Window start.
        end: Window end.
        embedder: What embeds posts; the configured model by default (loaded on first use).
        limit: Newest negative posts to cluster at most.
        max_k: Most themes.
        model_version: Whose negative labels select the posts.

    Returns:
        One row per theme, largest first, with `THEME_COLUMNS`.
    """
    stop: list[str] = []
    if incident_id is not None:
        incident = get_incident(engine, incident_id)
        window = incident_window(engine, incident)
        brand, start, end = brand or incident.brand, start or window[0], end or window[1]
        stop = [w for term in incident.brand_terms or [] for w in term.lower().split()]
    found = _themes(engine, brand, start, end, embedder, limit, max_k, model_version, stop)
    return pd.DataFrame([dataclasses.asdict(t) for t in found], columns=THEME_COLUMNS)


def _themes(
    engine: Engine,
    brand: str | None,
    start: datetime | None,
    end: datetime | None,
    embedder: Embedder | None,
    limit: int,
    max_k: int,
    model_version: str | None,
    stop: list[str],
) -> list[Theme]:
    frame = negative_posts(
        engine, brand=brand, start=start, end=end, model_version=model_version, limit=limit
    )
    if frame.empty:
        return []
    texts = frame["text"].astype(str).tolist()
    vectors = (embedder or default_embedder()).embed(texts, batch_size=32)
    stop += (brand or "").lower().split()
    return find_themes(texts, vectors, ids=frame["id"].tolist(), max_k=max_k, stop_terms=stop)


def scan_spikes(
    engine: Engine,
    *,
    brand: str | None = None,
    now: datetime | None = None,
    bucket_minutes: int = 15,
    params: OnlineParams | None = None,
    embedder: Embedder | None = None,
) -> pd.DataFrame:
    """Judge the buckets of `brand` completed since the last scan, once each; return new alerts.

    The online detector (`monitor.scan`) decides each bucket at its end against the history
    before it and stores its state, so later scans never re-decide the past. An alert opened
    while no incident is open for the brand is a "possible incident" early warning. With
    `embedder`, new alerts get themes.

    Returns:
        The newly stored spike events with `SPIKE_EVENT_COLUMNS`.
    """
    new = monitor.scan(engine, brand=brand, now=now, bucket_minutes=bucket_minutes, params=params)
    for event_id in new if embedder is not None else []:
        _attach_themes(engine, event_id, embedder)
    stored = spike_events(engine, brand=brand)
    return stored.loc[stored["id"].isin(new)].reset_index(drop=True)


def baseline_hours_left(engine: Engine, brand: str | None = None) -> float:
    """Hours until the spike detector may alert for `brand` ("learning the baseline, N h left")."""
    return monitor.baseline_hours_left(engine, brand)


def _attach_themes(engine: Engine, event_id: int, embedder: Embedder | None) -> None:
    with session_scope(engine) as session:
        event = next(e for e in queries.spike_events(session) if e["id"] == event_id)
    found = _themes(
        engine, event["brand"], event["started_at"], event["ended_at"], embedder, 500, 5, None, []
    )
    with session_scope(engine) as session:
        queries.set_spike_themes(session, event_id, [dataclasses.asdict(t) for t in found])


def spike_events(
    engine: Engine,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """Stored spike events (early warnings and spikes during incidents), newest first."""
    with session_scope(engine) as session:
        rows = queries.spike_events(session, brand=brand, start=start, end=end)
    return pd.DataFrame(rows, columns=SPIKE_EVENT_COLUMNS)


def early_warnings(engine: Engine, brand: str | None = None) -> pd.DataFrame:
    """Open "possible incident" warnings: spikes seen while no incident was open, newest first."""
    with session_scope(engine) as session:
        rows = queries.early_warnings(session, brand)
    return pd.DataFrame(rows, columns=SPIKE_EVENT_COLUMNS)


def set_warning_status(
    engine: Engine, event_id: int, status: str, incident_id: int | None = None
) -> None:
    """Dismiss an early warning (`dismissed`) or attach it to an incident (`promoted`)."""
    with session_scope(engine) as session:
        queries.set_spike_status(session, event_id, status, incident_id)


def send_spike_alerts(
    engine: Engine, settings: AlertSettings, *, base_url: str | None = None, samples: int = 3
) -> list[dict[str, Any]]:
    """Alert every configured destination about each stored spike not yet alerted, once each.

    Returns:
        One dict per spike alerted: `event_id` and each destination's outcome.
    """
    url = base_url or load_settings().public_url
    with session_scope(engine) as session:
        pending = [e for e in queries.spike_events(session) if e["alerted_at"] is None]
    sent = []
    for event in pending:
        posts = negative_posts(
            engine,
            brand=event["brand"],
            start=event["started_at"],
            end=event["ended_at"],
            limit=samples,
        )
        alert = alert_from_event(event, url, posts.to_dict("records"))
        outcomes = dispatch(settings, alert)
        if any(v == "sent" for v in outcomes.values()):
            with session_scope(engine) as session:
                queries.mark_spike_alerted(session, event["id"])
        sent.append({"event_id": event["id"], **outcomes})
    return sent


def marketing_posture(
    engine: Engine,
    incident_id: int,
    *,
    hold_after: timedelta = timedelta(hours=12),
    bucket_minutes: int = 60,
    now: datetime | None = None,
) -> Posture:
    """Whether marketing should still hold for an incident's brand (see `analysis.report`)."""
    incident = get_incident(engine, incident_id)
    end = now or datetime.now(UTC)
    frame = timeline(
        engine,
        brand=incident.brand,
        start=incident.opened_at - LOOKBACK,
        end=end,
        bucket_minutes=bucket_minutes,
    )
    complete = frame.loc[frame.index + pd.Timedelta(minutes=bucket_minutes) <= pd.Timestamp(end)]
    return report_posture(complete, incident.opened_at, incident.resolved_at, hold_after=hold_after)


def incident_report(
    engine: Engine,
    incident_id: int,
    *,
    bucket_minutes: int = 60,
    hold_after: timedelta = timedelta(hours=12),
    embedder: Embedder | None = None,
) -> IncidentReport:
    """Everything the post-incident report shows, as data."""
    incident = get_incident(engine, incident_id)
    start, end = incident_window(engine, incident)
    frame = timeline(
        engine, brand=incident.brand, start=start, end=end, bucket_minutes=bucket_minutes
    )
    # Buckets still in the future would read as calm and clear the marketing hold too early.
    now = pd.Timestamp(datetime.now(UTC))
    frame = frame.loc[frame.index + pd.Timedelta(minutes=bucket_minutes) <= now]
    found = themes(engine, incident_id=incident_id, embedder=embedder)
    theme_list = [Theme(**row) for row in found.to_dict("records")]
    return build_report(
        _incident_row(incident),
        frame,
        theme_list,
        outreach(engine, incident_id),
        hold_after=hold_after,
    )


def report(
    engine: Engine,
    incident_id: int,
    *,
    fmt: str = "md",
    bucket_minutes: int = 60,
    hold_after: timedelta = timedelta(hours=12),
    embedder: Embedder | None = None,
) -> str:
    """The post-incident report as Markdown (`fmt="md"`) or self-contained HTML (`"html"`)."""
    if fmt not in ("md", "html"):
        raise ValueError(f"report format {fmt!r}: expected md or html")
    data = incident_report(
        engine,
        incident_id,
        bucket_minutes=bucket_minutes,
        hold_after=hold_after,
        embedder=embedder,
    )
    return render_html(data) if fmt == "html" else render_markdown(data)


def set_outreach(
    engine: Engine,
    incident_id: int,
    author_id: int,
    *,
    status: str,
    assignee: str | None = None,
    note: str | None = None,
) -> None:
    """Record support's status (new/contacted/resolved/ignored), assignee and note for an author."""
    with session_scope(engine) as session:
        queries.set_outreach(
            session, incident_id, author_id, status=status, assignee=assignee, note=note
        )


def apply_incident_event(engine: Engine, event: IncidentEvent, brand: str | None = None) -> int:
    """Open, resolve or update the incident a Statuspage/PagerDuty event names; return its id."""
    with session_scope(engine) as session:
        return apply_event(session, event, brand).id
