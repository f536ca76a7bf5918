"""Post-incident reports and the marketing hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from flarewatch.analysis.kpis import complete_buckets
from flarewatch.analysis.report import (
    IncidentReport,
    Posture,
    build_report,
)
from flarewatch.analysis.report import marketing_posture as report_posture
from flarewatch.analysis.themes import Theme
from flarewatch.api.outreach import outreach
from flarewatch.api.replies import answers
from flarewatch.api.views import themes
from flarewatch.pipeline.frames import (
    LOOKBACK,
    Embedder,
    get_incident,
    incident_row,
    incident_window,
    timeline,
)
from flarewatch.pipeline.voice import incident_update_metrics
from flarewatch.render.report import render_html, render_markdown


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
    complete = complete_buckets(frame, bucket_minutes, end)
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
    frame = complete_buckets(frame, bucket_minutes, datetime.now(UTC))
    found = themes(engine, incident_id=incident_id, embedder=embedder)
    theme_list = [Theme(**row) for row in found.to_dict("records")]
    return build_report(
        incident_row(incident),
        frame,
        theme_list,
        outreach(engine, incident_id),
        hold_after=hold_after,
        answers=answers(engine, incident_id),
        updates=incident_update_metrics(engine, incident_id),
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
