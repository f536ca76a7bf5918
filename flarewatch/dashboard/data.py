"""Cached data access for the dashboard pages: caching over flarewatch.api, nothing else."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from flarewatch import api
from flarewatch.analysis.report import Posture
from flarewatch.analysis.spikes import Spike
from flarewatch.config import Settings, load_settings
from flarewatch.dashboard import OUTREACH_ROWS_SHOWN
from flarewatch.domain import OutreachFilter, PostMortem, TimelineEntry
from flarewatch.render.export import outreach_csv

# Live views refresh every half minute; slow-moving ones (incident list, health) less often.
LIVE_TTL_S = 30
SLOW_TTL_S = 60
# Themes embed hundreds of posts with the model: seconds of CPU, so they refresh less often.
THEMES_TTL_S = 300
LIVE_THEME_POSTS = 500
ACTIVITY_WINDOW = timedelta(hours=24)


def settings() -> Settings:
    """Settings as resolved now (arguments > env > file > defaults)."""
    return load_settings()


@st.cache_resource
def _engine(database_url: str) -> api.Engine:
    return api.connect(database_url)


def engine() -> api.Engine:
    """One migrated engine per database URL for the life of the server, statistics kept fresh."""
    found = _engine(settings().database_url)
    api.keep_statistics_fresh(found)
    return found


@st.cache_data(ttl=LIVE_TTL_S)
def incidents() -> pd.DataFrame:
    """All incidents, newest first."""
    return api.incidents(engine())


@st.cache_data(ttl=LIVE_TTL_S)
def incident_window(incident_id: int) -> tuple[datetime, datetime]:
    """The time range an incident is judged on."""
    return api.incident_window(engine(), api.get_incident(engine(), incident_id))


@st.cache_data(ttl=LIVE_TTL_S)
def timeline(
    brand: str | None, start: datetime, end: datetime, bucket_minutes: int
) -> pd.DataFrame:
    """Posts per bucket by sentiment."""
    return api.timeline(engine(), brand=brand, start=start, end=end, bucket_minutes=bucket_minutes)


@st.cache_data(ttl=LIVE_TTL_S)
def spikes(brand: str | None, start: datetime, end: datetime, bucket_minutes: int) -> list[Spike]:
    """Negative spikes in the window, judged against a week of history before it."""
    return api.window_spikes(
        engine(), brand=brand, start=start, end=end, bucket_minutes=bucket_minutes
    )


@st.cache_data(ttl=LIVE_TTL_S)
def negative_posts(
    brand: str | None, start: datetime, end: datetime, limit: int = 50
) -> pd.DataFrame:
    """Newest negative posts."""
    return api.negative_posts(engine(), brand=brand, start=start, end=end, limit=limit)


@st.cache_data(ttl=LIVE_TTL_S)
def outreach_page(
    incident_id: int, where: OutreachFilter, limit: int = OUTREACH_ROWS_SHOWN
) -> api.OutreachPage:
    """The highest priorities among unhappy authors matching `where`, and how many there are."""
    return api.outreach_page(engine(), incident_id, where, limit=limit)


@st.cache_data(ttl=LIVE_TTL_S)
def complaints(incident_id: int, author_ids: tuple[int, ...]) -> pd.DataFrame:
    """The newest negative post of each of these authors in the incident."""
    return api.latest_complaints(engine(), incident_id, list(author_ids))


def with_complaints(incident_id: int, rows: pd.DataFrame) -> pd.DataFrame:
    """Outreach rows with each author's latest complaint and its link."""
    return api.with_complaints(rows, complaints(incident_id, tuple(rows["author_id"])))


def outreach_export(incident_id: int, where: OutreachFilter) -> bytes:
    """The CSV of every author matching `where`, complaint links included (built when downloaded)."""
    rows = api.outreach_page(engine(), incident_id, where).rows
    found = api.latest_complaints(engine(), incident_id, rows["author_id"].tolist())
    return outreach_csv(api.with_complaints(rows, found))


@st.cache_data(ttl=LIVE_TTL_S)
def compare_incidents(bucket_minutes: int) -> pd.DataFrame:
    """Every incident's peak, duration, recovery and volume, newest first."""
    return api.compare_incidents(engine(), bucket_minutes=bucket_minutes)


@st.cache_data(ttl=LIVE_TTL_S)
def breakdown(column: str, brand: str | None, start: datetime, end: datetime) -> pd.DataFrame:
    """Posts by sentiment per platform or language, with the negative share of scored posts."""
    return api.breakdown(engine(), column, brand=brand, start=start, end=end)


@st.cache_data(ttl=SLOW_TTL_S)
def brands() -> list[str]:
    """Brands posts were collected for."""
    return api.brands(engine())


@st.cache_data(ttl=SLOW_TTL_S)
def baseline_hours_left(brand: str | None) -> float:
    """Hours until the spike detector has learned `brand`'s baseline (0: it can alert)."""
    return api.baseline_hours_left(engine(), brand)


@st.cache_data(ttl=SLOW_TTL_S)
def source_health() -> pd.DataFrame:
    """Each collector source's health with its verdict (failing, stale or ok)."""
    return api.source_health(engine())


@st.cache_data(ttl=SLOW_TTL_S)
def source_silence() -> pd.DataFrame:
    """Each feed (source and brand): ok, silent (far longer than its usual gap) or learning."""
    return api.source_silence(engine())


@st.cache_data(ttl=SLOW_TTL_S)
def silent_stretches(brand: str | None, start: datetime, end: datetime) -> pd.DataFrame:
    """Stretches in the window when a feed of `brand` was silent although its source ran."""
    return api.silent_stretches(engine(), brand=brand, start=start, end=end)


@st.cache_data(ttl=SLOW_TTL_S)
def platform_activity() -> pd.DataFrame:
    """Posts per platform created over the last day, with the newest collected and post times."""
    return api.platform_activity(engine(), window=ACTIVITY_WINDOW)


def _clear_incident_caches() -> None:
    incidents.clear()
    incident_window.clear()


def save_outreach(
    incident_id: int, author_id: int, status: str, assignee: object, note: object
) -> None:
    """Store support's edit of one author's outreach row and drop the cached table.

    `assignee` and `note` come straight from table cells: empty, None and NaN store no value.
    """
    api.set_outreach(
        engine(),
        incident_id,
        author_id,
        status=status,
        assignee=_text_or_none(assignee),
        note=_text_or_none(note),
    )
    outreach_page.clear()


@st.cache_data(ttl=LIVE_TTL_S)
def answers(incident_id: int) -> dict[str, Any]:
    """Answered share of priority authors, time to first answer, followed up, recovered share."""
    return api.answers(engine(), incident_id)


def draft_answers(
    incident_id: int,
    author_ids: list[int],
    kind: str,
    template: str,
    status_url: str | None,
    next_update: str | None,
) -> list[api.ReplyDraft]:
    """Replies (or follow-ups) to preview; raises ValueError for a bad template or open incident."""
    if kind == "followup":
        return api.draft_followups(
            engine(),
            incident_id,
            author_ids,
            include_uncontacted=True,
            template=template,
            status_url=status_url,
            next_update=next_update,
        )
    return api.draft_replies(
        engine(),
        incident_id,
        author_ids,
        template=template,
        status_url=status_url,
        next_update=next_update,
    )


def send_answers(
    incident_id: int, drafts: list[api.ReplyDraft], sender: str, approved_by: str | None
) -> pd.DataFrame:
    """Send previewed drafts with the configured credentials; drops the cached tables."""
    config = settings()
    result = api.send_replies(
        engine(),
        incident_id,
        drafts,
        api.repliers_for(config, {d.platform for d in drafts}),
        sender=sender,
        approved_by=approved_by or None,
        require_approval=config.require_approval,
        per_minute=config.outreach_per_minute,
        spacing=config.reply_spacing,
    )
    outreach_page.clear()
    answers.clear()
    return result


def _text_or_none(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value).strip() or None


def open_incident(title: str, brand: str | None, severity: str) -> int:
    """Open an incident now and return its id."""
    incident_id = api.open_incident(engine(), title, brand=brand, severity=severity).id
    _clear_incident_caches()
    return incident_id


def close_incident(incident_id: int) -> None:
    """Mark an incident resolved now."""
    api.close_incident(engine(), incident_id)
    _clear_incident_caches()


def set_severity(incident_id: int, severity: str) -> None:
    """Change an incident's severity."""
    api.set_severity(engine(), incident_id, severity)
    _clear_incident_caches()


@st.cache_resource
def _embedder(model: str) -> api.Embedder | None:
    try:
        return api.default_embedder(model)
    except OSError:  # the model's files are not there (yet)
        return None


def embedder() -> api.Embedder | None:
    """The configured model as theme embedder, loaded once; None when it cannot be loaded."""
    return _embedder(settings().model)


@st.cache_data(ttl=THEMES_TTL_S, show_spinner="Finding complaint themes…")
def themes(incident_id: int, limit: int = LIVE_THEME_POSTS) -> pd.DataFrame | None:
    """Complaint themes of an incident's newest negative posts; None without a model."""
    model = embedder()
    if model is None:
        return None
    return api.themes(engine(), incident_id=incident_id, embedder=model, limit=limit)


@st.cache_data(ttl=LIVE_TTL_S)
def early_warnings() -> pd.DataFrame:
    """Open "possible incident" warnings: spikes while no incident was open."""
    return api.early_warnings(engine())


def set_warning_status(event_id: int, status: str, incident_id: int | None = None) -> None:
    """Dismiss an early warning or attach it to an incident."""
    api.set_warning_status(engine(), event_id, status, incident_id)
    early_warnings.clear()


def promote_warning(event_id: int, title: str, brand: str | None) -> int:
    """Open an incident from an early warning (one transaction) and return its id."""
    incident_id = api.promote_warning(engine(), event_id, title, brand=brand)
    early_warnings.clear()
    _clear_incident_caches()
    return incident_id


@st.cache_data(ttl=LIVE_TTL_S)
def marketing_posture(incident_id: int) -> Posture:
    """Whether marketing should still hold for the incident's brand, and why."""
    return api.marketing_posture(engine(), incident_id)


def report(incident_id: int, fmt: str) -> str | None:
    """The post-incident report as Markdown or HTML; None without a model for its themes."""
    model = embedder()
    if model is None:
        return None
    return api.report(engine(), incident_id, fmt=fmt, embedder=model)


def set_label_override(post_id: int, label: str) -> None:
    """Record a person's label for a post and drop every cached view that counts labels.

    The label wins over the model's in every view; model scores stay as they are.
    """
    api.set_label(engine(), post_id, label, labelled_by="dashboard")
    views = (
        timeline,
        spikes,
        negative_posts,
        outreach_page,
        complaints,
        compare_incidents,
        breakdown,
    )
    for view in views:
        view.clear()


@st.cache_data(ttl=LIVE_TTL_S)
def postmortem(incident_id: int) -> PostMortem | None:
    """An incident's post-mortem (None until someone writes one)."""
    return api.postmortem(engine(), incident_id)


@st.cache_data(ttl=LIVE_TTL_S)
def incident_timeline(incident_id: int) -> list[TimelineEntry]:
    """An incident's timeline: Flarewatch's events and people's entries."""
    return api.incident_timeline(engine(), incident_id)


def _clear_postmortem_caches() -> None:
    postmortem.clear()
    incident_timeline.clear()
    search_incidents.clear()
    _clear_incident_caches()


def save_postmortem(incident_id: int, fields: dict[str, str]) -> None:
    """Store edited post-mortem fields."""
    api.save_postmortem(engine(), incident_id, **fields)
    _clear_postmortem_caches()


def add_follow_up(incident_id: int, action: str, owner: str | None, due: datetime | None) -> None:
    """Add a follow-up action."""
    api.add_follow_up(engine(), incident_id, action, owner=owner, due=due)
    _clear_postmortem_caches()


def set_follow_up_done(follow_up_id: int, done: bool) -> None:
    """Tick (or untick) a follow-up action."""
    api.set_follow_up_done(engine(), follow_up_id, done)
    _clear_postmortem_caches()


def add_timeline_entry(incident_id: int, at: datetime, text: str) -> None:
    """Add a person's timeline entry."""
    api.add_timeline_entry(engine(), incident_id, at, text)
    _clear_postmortem_caches()


def set_roles(incident_id: int, kind: str, commander: str, comms_lead: str) -> None:
    """Set the incident's kind and roles."""
    api.set_roles(engine(), incident_id, kind=kind, commander=commander, comms_lead=comms_lead)
    _clear_postmortem_caches()


def archive_incident(incident_id: int) -> None:
    """Archive a resolved incident."""
    api.archive_incident(engine(), incident_id)
    _clear_postmortem_caches()


def delete_incident(incident_id: int) -> None:
    """Delete an incident (refused with ValueError while it has a post-mortem)."""
    api.delete_incident(engine(), incident_id)
    _clear_postmortem_caches()


def export_postmortem(incident_id: int) -> str:
    """The post-mortem as Markdown for a wiki."""
    return api.export_postmortem(engine(), incident_id)


@st.cache_data(ttl=LIVE_TTL_S)
def search_incidents(text: str) -> pd.DataFrame:
    """Past incidents matching `text` in title, post-mortem or themes."""
    return api.search_incidents(engine(), text)


@st.cache_data(ttl=SLOW_TTL_S)
def lead_times() -> pd.DataFrame:
    """How long customers talked before each incident was declared."""
    return api.lead_times(engine())


@st.cache_data(ttl=SLOW_TTL_S)
def alert_precision() -> pd.DataFrame:
    """Alert precision per brand and month from useful/noise marks."""
    return api.alert_precision(engine())


@st.cache_data(ttl=LIVE_TTL_S)
def incident_spikes(incident_id: int) -> pd.DataFrame:
    """Stored spike events of one incident, with their matches, newest first."""
    events = api.spike_events(engine())
    return events.loc[events["incident_id"] == incident_id].reset_index(drop=True)


def set_alert_feedback(event_id: int, verdict: str) -> None:
    """Mark a spike alert useful or noise."""
    api.set_alert_feedback(engine(), event_id, verdict)
    alert_precision.clear()
    early_warnings.clear()
    incident_spikes.clear()


@st.cache_data(ttl=LIVE_TTL_S)
def own_posts(brand: str | None, start: datetime, end: datetime) -> pd.DataFrame:
    """The brand's own public posts in the window: markers on the timeline."""
    return api.own_posts(engine(), brand=brand, start=start, end=end)


@st.cache_data(ttl=LIVE_TTL_S)
def voice_status(incident_id: int) -> dict[str, object]:
    """Our last public update, minutes since, and whether we are silent for too long."""
    limits = api.parse_silence_limits(settings().silence_limits)
    return api.voice_status(engine(), incident_id, limits=limits)


def own_accounts(brand: str | None) -> dict[str, str]:
    """The brand's own accounts from the watch file (none when it names none)."""
    try:
        return api.own_accounts(settings().watch_file, brand)
    except ValueError:
        return {}


def compose_update(incident_id: int, fields: dict[str, str]) -> str:
    """The default update text filled with the incident's fields."""
    return api.compose_update(engine(), incident_id, fields)


def preview_update(text: str, accounts: dict[str, str]) -> list[api.Preview]:
    """Each destination's posts for `text`, with its limit."""
    return api.preview_update(text, accounts, mastodon_limit=settings().mastodon_max_characters)


def outbound(incident_id: int) -> pd.DataFrame:
    """The incident's stored updates (drafts, sent, failed)."""
    return api.outbound(engine(), incident_id=incident_id, kind="update")


def draft_update(incident_id: int, text: str, accounts: dict[str, str], user: str) -> api.Draft:
    """Store the update as drafts, one per destination."""
    return api.draft_update(
        engine(),
        incident_id,
        text,
        accounts,
        drafted_by=user,
        mastodon_limit=settings().mastodon_max_characters,
    )


def approve_update(item_id: int, user: str) -> None:
    """Approve another user's draft."""
    api.approve_update(engine(), item_id, user)


def publish_update(incident_id: int, page_status: str | None) -> list[dict[str, object]]:
    """Send the incident's unsent drafts now (the caller asked for explicit confirmation)."""
    rows = api.publish_update(
        engine(),
        incident_id,
        send=True,
        require_approval=settings().require_approval,
        statuspage_status=page_status,
    )
    voice_status.clear()
    own_posts.clear()
    return rows


@st.cache_data(ttl=LIVE_TTL_S)
def unanswered_authors(incident_id: int) -> pd.DataFrame:
    """High-priority unhappy authors nobody has answered yet."""
    return api.unanswered_authors(engine(), incident_id)


def finish_incident(incident_id: int) -> None:
    """Close the incident (the page asked for confirmation when authors wait)."""
    api.finish_incident(engine(), incident_id, confirm=True)
    _clear_incident_caches()
