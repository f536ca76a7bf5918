"""Silent sources over the store: which feeds went quiet for far longer than usual, alerted once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from flarewatch.alerts.channels import AlertSettings, dispatch
from flarewatch.alerts.message import Alert, dashboard_link
from flarewatch.analysis.silence import (
    FeedSilence,
    SilenceEvent,
    SilenceSettings,
    SilentStretch,
    silence_alerts,
    silence_report,
)
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope


def feed_silences(
    engine: Engine, *, now: datetime | None = None, settings: SilenceSettings | None = None
) -> list[FeedSilence]:
    """Every feed's verdict ("ok", "silent", "learning") from the posts and runs up to `now`."""
    settings = settings or SilenceSettings()
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        arrivals = queries.arrival_times(session, since=now - settings.lookback, until=now)
        runs = queries.last_successes(session)
    # A run after `now` (a replay of the past) is judged as if it ended at `now`.
    checked = {source: None if at is None else min(at, now) for source, at in runs.items()}
    return silence_report(arrivals, checked, settings)


def _stretch(key: tuple[str, str | None], row: dict[str, Any]) -> SilentStretch:
    start, since, p95 = row["start"], row["silent_since"], row["usual_p95_seconds"]
    return SilentStretch(key[0], key[1], start, since, None, p95)


def _row(stretch: SilentStretch) -> dict[str, Any]:
    return {
        "start": stretch.start,
        "silent_since": stretch.silent_since,
        "usual_p95_seconds": stretch.usual_p95_seconds,
    }


def check_silence(
    engine: Engine,
    alert_settings: AlertSettings | None = None,
    *,
    now: datetime | None = None,
    base_url: str = "http://127.0.0.1:8501",
) -> list[tuple[SilenceEvent, dict[str, str]]]:
    """Alert each feed that went silent, once per silent stretch, and again when it recovers.

    The stretches already alerted are stored, so a restart never alerts the same one twice.

    Returns:
        Each new event with every destination's outcome (empty when none is configured).
    """
    report = feed_silences(engine, now=now)
    with session_scope(engine) as session:
        stored = queries.alerted_silences(session)
        alerted = {key: _stretch(key, row) for key, row in stored.items()}
        events, state = silence_alerts(report, alerted)
        queries.save_alerted_silences(session, {k: _row(s) for k, s in state.items()})
    settings = alert_settings or AlertSettings()
    sent = []
    for event in events:
        outcome = dispatch(settings, silence_alert(event, base_url)) if settings.any else {}
        sent.append((event, outcome))
    return sent


def describe_silence(event: SilenceEvent) -> str:
    """One line about a feed gone silent or back."""
    s = event.stretch
    feed = f"{s.source} for {s.brand or 'all brands'}"
    if event.kind == "silent":
        usual = s.usual_p95_seconds / 60
        return (
            f"{feed} is silent: no post since {s.start:%Y-%m-%d %H:%M} UTC although its source "
            f"runs fine (usually a post every {usual:.0f} min at most); a gap is no recovery"
        )
    return f"{feed} is back: posts again since {s.end or s.silent_since:%Y-%m-%d %H:%M} UTC"


def silence_alert(event: SilenceEvent, base_url: str) -> Alert:
    """The alert telling people a feed went silent (or came back)."""
    s = event.stretch
    title = "Source silent" if event.kind == "silent" else "Source back"
    return Alert(
        brand=s.brand,
        title=f"{title}: {s.source} for {s.brand or 'all brands'}",
        started_at=s.start,
        detected_at=s.silent_since if event.kind == "silent" else (s.end or s.silent_since),
        observed=0,
        baseline=0.0,
        ratio=0.0,
        severity=0.0,
        early_warning=False,
        dashboard_url=dashboard_link(base_url, s.brand, s.start),
        kind="silence",
        summary=describe_silence(event),
    )
