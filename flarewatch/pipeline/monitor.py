"""The monitoring workflow: judge buckets for spikes, store early warnings, alert once each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import Engine

from flarewatch.alerts.channels import AlertSettings, destinations, destinations_for, dispatch
from flarewatch.alerts.message import alert_from_event
from flarewatch.analysis.online import FAST_BUCKET_MINUTES, FAST_PARAMS, OnlineParams
from flarewatch.analysis.updates import parse_silence_limits
from flarewatch.collectors.watch import credentials
from flarewatch.config import load_settings
from flarewatch.models.base import SentimentScorer
from flarewatch.pipeline import detector
from flarewatch.pipeline.frames import Embedder, negative_posts, spike_events
from flarewatch.pipeline.handoff import TicketPoll, ticket_poll_for
from flarewatch.pipeline.ingest import RunResult, run_watch
from flarewatch.pipeline.memory import describe_spike
from flarewatch.pipeline.score import score_pending
from flarewatch.pipeline.silence import check_silence, describe_silence
from flarewatch.pipeline.upkeep import keep_statistics_fresh
from flarewatch.pipeline.voice import check_going_dark
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

# Silence is judged from weeks of post times: often enough to matter, rarely enough to be cheap.
SILENCE_CHECK_EVERY = timedelta(minutes=5)


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

    The online detector (`pipeline.detector.scan`) decides each bucket at its end against the
    history before it and stores its state, so later scans never re-decide the past. An alert
    opened while no incident is open for the brand is a "possible incident" early warning.
    With `embedder`, new alerts get themes and the brand's most similar past incidents.

    Returns:
        The newly stored spike events with `SPIKE_EVENT_COLUMNS`.
    """
    new = detector.scan(engine, brand=brand, now=now, bucket_minutes=bucket_minutes, params=params)
    if embedder is not None:
        for event_id in new:
            describe_spike(engine, event_id, embedder)
    stored = spike_events(engine, brand=brand)
    return stored.loc[stored["id"].isin(new)].reset_index(drop=True)


def send_spike_alerts(
    engine: Engine,
    settings: AlertSettings,
    *,
    base_url: str | None = None,
    samples: int = 3,
    security: AlertSettings | None = None,
) -> list[dict[str, Any]]:
    """Alert every configured destination about each stored spike, once per destination.

    A destination that fails is tried again at the next scan (its failure shows as the health
    of source `alert:<destination>`); the others are not sent the same alert twice. A spike is
    marked alerted once every destination has it.

    A spike during a security incident goes to `security`'s destinations when it has any.

    Returns:
        One dict per spike alerted: `event_id` and each destination's outcome.
    """
    url = base_url or load_settings().public_url
    with session_scope(engine) as session:
        pending = queries.spike_events(session, unalerted=True)
    sent = []
    for event in pending:
        kind = _incident_kind(engine, event["incident_id"])
        target = destinations_for(kind, settings, security)
        wanted = set(destinations(target))
        with session_scope(engine) as session:
            owed = wanted - queries.alert_deliveries(session, event["id"])
        if owed:
            outcomes = _alert_once(engine, event, target, url, samples, owed)
            sent.append({"event_id": event["id"], **outcomes})
        with session_scope(engine) as session:
            if wanted <= queries.alert_deliveries(session, event["id"]):
                queries.mark_spike_alerted(session, event["id"])
    return sent


def _incident_kind(engine: Engine, incident_id: int | None) -> str:
    if incident_id is None:
        return "service"
    with session_scope(engine) as session:
        return queries.find_incident(session, incident_id).kind


def _alert_once(
    engine: Engine,
    event: dict[str, Any],
    settings: AlertSettings,
    url: str,
    samples: int,
    owed: set[str],
) -> dict[str, str]:
    posts = negative_posts(
        engine,
        brand=event["brand"],
        start=event["started_at"],
        end=event["ended_at"],
        limit=samples,
    )
    alert = alert_from_event(event, url, posts.to_dict("records"))
    outcomes = dispatch(settings, alert, only=owed)
    with session_scope(engine) as session:
        for name, outcome in outcomes.items():
            if outcome == "sent":
                queries.record_alert_delivery(session, event["id"], name)
                queries.record_source_success(session, f"alert:{name}", 0)
            else:
                queries.record_source_failure(session, f"alert:{name}", outcome)
    return outcomes


@dataclass(frozen=True)
class ScanOptions:
    """What a scan looks at and what it does with what it finds."""

    brands: Sequence[str] = ()
    bucket_minutes: int = 15
    embedder: Embedder | None = None
    alert: bool = True
    base_url: str | None = None
    now: datetime | None = None
    # Also judge 1-minute buckets with rolling 5-minute windows (`FAST_PARAMS`), for minutes.
    fast: bool = False


def scan_brands(
    engine: Engine, options: ScanOptions, echo: Callable[[str], Any] = print
) -> list[dict[str, Any]]:
    """Scan each brand (all collected ones by default), then alert the new spikes once each.

    Returns:
        Each alert sent: `event_id` and each destination's outcome.
    """
    with session_scope(engine) as session:
        names = list(options.brands) or queries.brands(session)
    widths: list[tuple[int, OnlineParams | None]] = [(options.bucket_minutes, None)]
    if options.fast:
        widths.insert(0, (FAST_BUCKET_MINUTES, FAST_PARAMS))
    for brand in names:
        for minutes, params in widths:
            new = scan_spikes(
                engine, brand=brand, now=options.now, embedder=options.embedder,
                bucket_minutes=minutes, params=params,
            )  # fmt: skip
            for row in new.itertuples():
                echo(describe_event(brand, row))
    settings = AlertSettings.from_env()
    security = AlertSettings.for_security(load_settings())
    if not (options.alert and (settings.any or security.any)):
        return []
    sent = send_spike_alerts(engine, settings, base_url=options.base_url, security=security)
    config = load_settings()
    for silence in check_going_dark(
        engine,
        settings,
        base_url=options.base_url or config.public_url,
        now=options.now,
        limits=parse_silence_limits(config.silence_limits),
    ):
        echo(
            f"incident {silence['incident_id']}: no public update since {silence['since']:%H:%M} UTC"
        )
    return sent


def describe_event(brand: str, row: Any) -> str:
    """One line for the terminal about a newly stored spike event."""
    label = "possible incident" if row.early_warning else "spike"
    return (
        f"{brand}: {label} since {row.started_at:%Y-%m-%d %H:%M} UTC, "
        f"{row.observed} vs {row.baseline:.1f}, severity {row.severity:.0f}"
    )


@dataclass
class SilenceCheck:
    """Silent-source checks from the monitor loop, at most once per `every`."""

    engine: Engine
    alert: bool = True
    base_url: str | None = None
    every: timedelta = SILENCE_CHECK_EVERY
    last: datetime | None = None

    def run_due(self, now: datetime | None = None) -> list[str]:
        """Check now if due; one line per feed that went silent or came back."""
        now = now or datetime.now(UTC)
        if self.last is not None and now - self.last < self.every:
            return []
        self.last = now
        settings = AlertSettings.from_env() if self.alert else AlertSettings()
        url = self.base_url or load_settings().public_url
        found = check_silence(self.engine, settings, now=now, base_url=url)
        return [f"{describe_silence(event)} {outcome or ''}".rstrip() for event, outcome in found]


class PeriodicCheck(Protocol):
    """A check the monitor loop runs each upkeep, which does nothing until it is due."""

    def run_due(self, now: datetime | None = None) -> list[str]: ...


def upkeep_for(
    engine: Engine, checks: Sequence[PeriodicCheck], echo: Callable[[str], Any] = print
) -> Callable[[], None]:
    """The loop's upkeep: planner statistics, then each due check, echoing what each reports."""

    def upkeep() -> None:
        keep_statistics_fresh(engine)
        for check in checks:
            for line in check.run_due():
                echo(line)

    return upkeep


def run(
    engine: Engine,
    watch_file: str,
    *,
    scorer: SentimentScorer | None,
    scan: ScanOptions | None,
    batch_size: int = 64,
    cycles: int | None = None,
    echo: Callable[[str], Any] = print,
    tickets: TicketPoll | None = None,
) -> None:
    """The main loop: collect every source on its interval, score new posts, scan, alert.

    Without `cycles` it is the supervisor (`pipeline.supervisor`): streams and polling side by
    side, scoring continuously, until SIGTERM/SIGINT. `cycles` runs the polling sources that
    many passes in this thread, scoring after each save (streams need the supervisor).
    After each collection (each minute under the supervisor) it also checks for silent sources
    (at most every few minutes): a feed gone quiet for far longer than usual, although its
    source runs fine, alerts once. With Zendesk set up it reads back the status of tickets not
    yet solved or closed every `ticket_poll_minutes` (`tickets` overrides that poll).
    """
    options = scan or ScanOptions()
    checks: list[PeriodicCheck] = [
        SilenceCheck(engine, alert=options.alert, base_url=options.base_url)
    ]
    tickets = tickets or ticket_poll_for(engine, load_settings(), credentials())
    if tickets is not None:
        checks.append(tickets)
    upkeep = upkeep_for(engine, checks, echo)

    if cycles is None:
        from flarewatch.pipeline.supervisor import supervise

        supervise(
            engine, watch_file, scorer=scorer, scan=scan, batch_size=batch_size, echo=echo,
            upkeep=upkeep,
        )  # fmt: skip
        return

    def after_save(_result: RunResult) -> None:
        upkeep()
        if scorer is None:
            return
        score_pending(engine, scorer, batch_size=batch_size)
        if scan is not None:
            for outcome in scan_brands(engine, scan, echo):
                echo(f"alert for spike {outcome.pop('event_id')}: {outcome}")

    run_watch(engine, watch_file, after_save=after_save, cycles=cycles, echo=echo)
