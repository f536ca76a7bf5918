"""Cached data access for the dashboard pages; every read goes through flarewatch.api."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from flarewatch import api
from flarewatch.analysis.spikes import Spike
from flarewatch.config import Settings, load_settings
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

LIVE_TTL_S = 30


def settings() -> Settings:
    """Settings as resolved now (arguments > env > file > defaults)."""
    return load_settings()


@st.cache_resource
def _engine(database_url: str) -> Engine:
    return api.connect(database_url)


def engine() -> Engine:
    """One migrated engine per database URL for the life of the server."""
    return _engine(settings().database_url)


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


def spikes(frame: pd.DataFrame) -> list[Spike]:
    """Negative spikes in a timeline (cheap: the timeline is cached)."""
    return api.spikes(frame)


@st.cache_data(ttl=LIVE_TTL_S)
def negative_posts(
    brand: str | None, start: datetime, end: datetime, limit: int = 50
) -> pd.DataFrame:
    """Newest negative posts."""
    return api.negative_posts(engine(), brand=brand, start=start, end=end, limit=limit)


@st.cache_data(ttl=LIVE_TTL_S)
def outreach(incident_id: int) -> pd.DataFrame:
    """Ranked unhappy authors with their outreach state."""
    return api.outreach(engine(), incident_id)


def save_outreach(
    incident_id: int, author_id: int, status: str, assignee: str | None, note: str | None
) -> None:
    """Store support's edit of one author's outreach row and drop the cached table."""
    with session_scope(engine()) as session:
        queries.set_outreach(
            session, incident_id, author_id, status=status, assignee=assignee, note=note
        )
    outreach.clear()
