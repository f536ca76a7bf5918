"""The public DataFrame API on a seeded database, on every backend."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pandas as pd
import pytest

from flarewatch import api
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.queries._sql import FEW_AUTHORS
from tests.conftest import T0, make_post, score_down_as_negative

MODEL = "test-model"
# Negative posts per hour relative to T0: a quiet day, a three-hour spike, one loud hour after.
NEGATIVE_PER_HOUR = {h: 1 for h in range(-24, 11)} | {0: 10, 1: 12, 2: 8, 3: 6}


def _hour_posts(hour: int, negatives: int, start_id: int) -> list:
    posts = [
        make_post(start_id + k, f"app down {hour} {k}", author=f"angry{k}", minutes=hour * 60 + k)
        for k in range(negatives)
    ]
    posts.append(make_post(start_id + 99, f"all good {hour}", author="fan", minutes=hour * 60 + 30))
    return posts


def seed(engine) -> dict[str, int]:
    """A resolved acme incident with a spike, an open globex incident and one unscored post."""
    posts = [
        p
        for h, n in NEGATIVE_PER_HOUR.items()
        for p in _hour_posts(h, n, start_id=(h + 100) * 1000)
    ]
    posts.append(
        dataclasses.replace(make_post(1, "on reddit: app down", minutes=15), platform="reddit")
    )
    posts.append(make_post(2, "globex is down", brand="globex", minutes=5 * 60))
    with session_scope(engine) as s:
        queries.save_posts(s, posts)
        score_down_as_negative(s, MODEL)
        queries.save_posts(s, [make_post(3, "not scored yet", minutes=20)])
        acme = queries.open_incident(s, "Login outage", brand="acme", opened_at=T0)
        queries.close_incident(s, acme.id, resolved_at=T0 + timedelta(hours=3))
        globex = queries.open_incident(
            s, "Globex API", brand="globex", opened_at=T0 + timedelta(hours=5)
        )
        return {"acme": acme.id, "globex": globex.id}


def test_public_names__pinned():
    assert sorted(api.__all__) == [
        "ANSWER_COLUMNS",
        "COMPARE_COLUMNS",
        "DRAFT_COLUMNS",
        "DemoSummary",
        "Draft",
        "Embedder",
        "Engine",
        "HoldError",
        "INCIDENT_COLUMNS",
        "LEAD_COLUMNS",
        "OUTBOUND_COLUMNS",
        "OUTREACH_TABLE_COLUMNS",
        "OWN_POST_COLUMNS",
        "OutreachPage",
        "POST_COLUMNS",
        "Preview",
        "REPLY_TEMPLATES",
        "ReplayOptions",
        "ReplyDraft",
        "RunResult",
        "SEARCH_COLUMNS",
        "SEND_COLUMNS",
        "SILENCE_COLUMNS",
        "SPIKE_EVENT_COLUMNS",
        "STRETCH_COLUMNS",
        "SaveResult",
        "ScanOptions",
        "THEME_COLUMNS",
        "TICKET_COLUMNS",
        "TIMELINE_COLUMNS",
        "UnansweredError",
        "WorkerOptions",
        "add_follow_up",
        "add_timeline_entry",
        "alert_precision",
        "answers",
        "apply_incident_event",
        "approve_update",
        "archive_incident",
        "backtest",
        "baseline_hours_left",
        "brands",
        "breakdown",
        "build_demo",
        "check_going_dark",
        "check_silence",
        "clear_label",
        "close_incident",
        "collect_once",
        "compare_incidents",
        "compose_update",
        "connect",
        "count_pending",
        "data_began",
        "default_embedder",
        "default_worker_name",
        "delete_incident",
        "demo_posts",
        "describe",
        "draft_followups",
        "draft_handoffs",
        "draft_post",
        "draft_replies",
        "draft_update",
        "drafts_frame",
        "early_warnings",
        "export_postmortem",
        "fingerprint_incident",
        "finish_incident",
        "get_incident",
        "helpdesk_for",
        "import_file",
        "incident_report",
        "incident_timeline",
        "incident_update_metrics",
        "incident_window",
        "incidents",
        "keep_statistics_fresh",
        "labels",
        "last_public_update",
        "latest_complaints",
        "lead_time",
        "lead_times",
        "marketing_hold",
        "marketing_posture",
        "negative_posts",
        "note_tickets",
        "open_incident",
        "outbound",
        "outreach",
        "outreach_authors",
        "outreach_page",
        "outreach_replies",
        "outreach_tickets",
        "own_accounts",
        "own_posts",
        "parse_silence_limits",
        "platform_activity",
        "poll_tickets",
        "postmortem",
        "posts",
        "preview_update",
        "promote_warning",
        "publish_update",
        "purge",
        "recovery",
        "refresh_planner_statistics",
        "remove_timeline_entry",
        "repliers_for",
        "report",
        "resolve_model_version",
        "run",
        "save_postmortem",
        "scan_brands",
        "scan_spikes",
        "score_pending",
        "search_incidents",
        "send_handoffs",
        "send_replies",
        "send_spike_alerts",
        "set_alert_feedback",
        "set_follow_up_done",
        "set_label",
        "set_outreach",
        "set_roles",
        "set_severity",
        "set_warning_status",
        "silent_stretches",
        "source_health",
        "source_silence",
        "spike_events",
        "spike_matches",
        "spikes",
        "themes",
        "timeline",
        "unanswered_authors",
        "voice_status",
        "window_spikes",
        "with_answers",
        "with_complaints",
        "zendesk_for",
    ]
    assert all(hasattr(api, name) for name in api.__all__)


def test_posts__incident_window_with_scores(engine):
    ids = seed(engine)
    frame = api.posts(engine, incident_id=ids["acme"])
    assert list(frame.columns) == api.POST_COLUMNS
    assert set(frame["brand"]) == {"acme"}
    assert frame["created_at"].is_monotonic_increasing
    assert str(frame["created_at"].dt.tz) == "UTC"
    assert frame["created_at"].min() >= T0 - timedelta(hours=24)
    down = frame[frame["text"].str.contains("down")]
    assert (down["label"] == "negative").all() and (down["p_negative"] == 0.9).all()
    assert len(frame) == sum(NEGATIVE_PER_HOUR.values()) + len(NEGATIVE_PER_HOUR) + 2


def test_posts__unscored_post_has_no_label(engine):
    seed(engine)
    frame = api.posts(engine, brand="acme")
    unscored = frame[frame["text"] == "not scored yet"].iloc[0]
    assert pd.isna(unscored["label"]) and pd.isna(unscored["p_negative"])


def test_posts__platform_and_time_filters(engine):
    seed(engine)
    reddit = api.posts(engine, platform="reddit")
    assert list(reddit["text"]) == ["on reddit: app down"]
    hour = api.posts(engine, brand="acme", start=T0, end=T0 + timedelta(hours=1))
    assert len(hour) == 10 + 1 + 2  # the spike hour, its positive post, reddit and the unscored one
    assert api.posts(engine, brand="globex", model_version="other-model")["label"].isna().all()


def test_posts__empty_database_keeps_columns(engine):
    frame = api.posts(engine)
    assert frame.empty and list(frame.columns) == api.POST_COLUMNS


def test_compare_incidents__resolved_incident(engine):
    ids = seed(engine)
    frame = api.compare_incidents(engine).set_index("id")
    assert list(frame.reset_index().columns) == api.COMPARE_COLUMNS
    acme = frame.loc[ids["acme"]]
    assert acme["duration"] == pd.Timedelta(hours=3)
    assert acme["peak_negative"] == 12
    assert acme["peak_at"] == pd.Timestamp(T0 + timedelta(hours=1))
    assert acme["baseline_negative"] == 1
    assert acme["back_to_baseline_at"] == pd.Timestamp(T0 + timedelta(hours=4))
    assert acme["time_to_baseline"] == pd.Timedelta(hours=1)
    assert acme["negative_posts"] == 10 + 1 + 12 + 8  # the reddit post falls in the first hour
    assert acme["posts"] == acme["negative_posts"] + 3 + 1  # three positive, one unscored
    assert acme["negative_share"] == pytest.approx(31 / 34)


def test_compare_incidents__open_incident_has_no_recovery(engine):
    ids = seed(engine)
    globex = api.compare_incidents(engine, bucket_minutes=30).set_index("id").loc[ids["globex"]]
    assert globex["status"] == "open" and globex["bucket_minutes"] == 30
    assert pd.isna(globex["duration"]) and pd.isna(globex["time_to_baseline"])
    assert globex["peak_negative"] == 1 and globex["negative_posts"] == 1


def test_compare_incidents__no_incidents(engine):
    frame = api.compare_incidents(engine)
    assert frame.empty and list(frame.columns) == api.COMPARE_COLUMNS


def test_timeline__posts_between_bucket_starts_land_in_their_bucket(engine):
    seed(engine)
    frame = api.timeline(
        engine, brand="acme", start=T0, end=T0 + timedelta(hours=3), bucket_minutes=60
    )
    assert list(frame["negative"])[:3] == [11, 12, 8]
    assert list(frame["unscored"])[:3] == [1, 0, 0]


def test_window_spikes__judges_window_against_history_before_it(engine):
    seed(engine)
    window = dict(brand="acme", start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=6))
    found = api.window_spikes(engine, **window, bucket_minutes=60, model_version=MODEL)
    assert [s.start for s in found] == [pd.Timestamp(T0)]
    only_window = api.timeline(engine, **window, bucket_minutes=60, model_version=MODEL)
    assert api.spikes(only_window) == []  # an hour of history is too little to judge by
    later = api.window_spikes(
        engine,
        brand="acme",
        start=T0 + timedelta(hours=5),
        end=T0 + timedelta(hours=6),
        bucket_minutes=60,
        model_version=MODEL,
    )
    assert later == []


def test_outreach__each_author_carries_their_newest_negative_post(engine):
    ids = seed(engine)
    table = api.outreach(engine, ids["acme"], model_version=MODEL).set_index("handle")
    assert table.loc["angry0", "latest_post"] == "app down 10 0"
    assert table.loc["angry11", "latest_post"] == "app down 1 11"
    assert table.loc["angry11", "latest_url"].endswith("/angry11/status/101011")
    assert "fan" not in table.index  # never negative, nothing to answer


def test_latest_complaints__a_page_of_authors_matches_the_whole_window(engine):
    ids = seed(engine)
    ranked = api.outreach_authors(engine, ids["acme"], model_version=MODEL)
    page = ranked["author_id"].head(3).tolist()
    few = api.latest_complaints(engine, ids["acme"], page, model_version=MODEL)
    # Past FEW_AUTHORS ids the query reads the whole window and filters in Python.
    many = page + list(range(10**6, 10**6 + FEW_AUTHORS))
    every = api.latest_complaints(engine, ids["acme"], many, model_version=MODEL)
    assert sorted(few.index) == sorted(page)
    assert few.sort_index().equals(every.sort_index())
    table = api.with_complaints(ranked, few)
    assert list(table.columns) == api.OUTREACH_TABLE_COLUMNS
    assert table["latest_post"].notna().sum() == 3


def test_outreach_authors__authors_without_state_have_none_not_nan(engine):
    ids = seed(engine)
    ranked = api.outreach_authors(engine, ids["acme"], model_version=MODEL)
    table = api.with_complaints(ranked, api.latest_complaints(engine, ids["acme"], []))
    # NaN would reach the editor, which hands it back on the next edit to be saved as "nan".
    assert set(table["assignee"]) == set(table["note"]) == {None}
    assert set(table["latest_post"]) == {None}
