"""The live monitor over a database: scans judge each bucket once, backtests replay them."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
from click.testing import CliRunner

from flarewatch import api
from flarewatch.cli import cli
from flarewatch.pipeline import detector as monitor
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.queries import detector
from tests.conftest import T0, make_post, score_down_as_negative

DAYS = 3


def _seed(engine, *, burst_hours: int = 2, first: int = 0, one_voice: bool = False) -> None:
    """Three days of 8 negative posts an hour for acme, then a burst of 60 an hour from T0.

    Each post of an hour is by another author; with `one_voice` one author writes the burst.
    """
    posts = []
    for hour in range(-DAYS * 24, burst_hours):
        for k in range(60 if hour >= 0 else 8):
            author = "angry" if one_voice and hour >= 0 else f"u{k}"
            posts.append(
                make_post(first + len(posts), "service down", author=author, minutes=hour * 60 + k)
            )
    with session_scope(engine) as session:
        queries.save_posts(session, posts)
        score_down_as_negative(session, "m1")


def _scan_every_bucket(engine, until: timedelta) -> list:
    found = []
    for k in range(1, int(until / timedelta(minutes=15)) + 1):
        now = T0 - timedelta(hours=1) + k * timedelta(minutes=15)
        found += api.scan_spikes(engine, brand="acme", now=now)["detected_at"].tolist()
    return found


def test_scan__alerts_once_at_the_bucket_that_confirms_the_burst(sqlite_engine):
    _seed(sqlite_engine)
    alerted = _scan_every_bucket(sqlite_engine, timedelta(hours=3))
    assert alerted == [T0 + timedelta(minutes=30)]


def test_scan__one_author_posting_a_flood_is_no_surge(sqlite_engine):
    _seed(sqlite_engine, one_voice=True)
    assert _scan_every_bucket(sqlite_engine, timedelta(hours=3)) == []


def test_scan__never_re_decides_a_bucket_it_already_judged(sqlite_engine):
    _seed(sqlite_engine, burst_hours=0)
    assert _scan_every_bucket(sqlite_engine, timedelta(hours=2)) == []
    # Posts that arrive late for buckets already judged do not make them alert afterwards.
    late = [make_post(100_000 + k, "service down", minutes=-45 + k % 30) for k in range(200)]
    with session_scope(sqlite_engine) as session:
        queries.save_posts(session, late)
        score_down_as_negative(session, "m1")
    assert api.scan_spikes(
        sqlite_engine, brand="acme", now=T0 + timedelta(hours=1, minutes=15)
    ).empty
    with session_scope(sqlite_engine) as session:
        state = detector.load_state(session, "acme", 15)
        assert state.last_bucket == T0 + timedelta(hours=1)


def test_scan__a_first_scan_over_old_history_sends_no_stale_alert(sqlite_engine):
    _seed(sqlite_engine)
    # The burst (T0 to T0+2h) is over and its alert closed by T0+6h: old news, never sent.
    assert api.scan_spikes(sqlite_engine, brand="acme", now=T0 + timedelta(hours=6)).empty
    assert api.scan_spikes(sqlite_engine, brand="acme", now=T0 + timedelta(hours=7)).empty
    with session_scope(sqlite_engine) as session:
        assert detector.load_state(session, "acme", 15).state["alert_start"] is None


def test_scan__a_late_first_scan_still_alerts_a_surge_that_is_running(sqlite_engine):
    _seed(sqlite_engine, burst_hours=3)
    new = api.scan_spikes(sqlite_engine, brand="acme", now=T0 + timedelta(hours=2))
    assert len(new) == 1 and new.loc[0, "started_at"] >= T0
    # Judged once: the next scan extends the same alert rather than opening another.
    assert api.scan_spikes(sqlite_engine, brand="acme", now=T0 + timedelta(hours=3)).empty


def test_backtest__reports_what_live_scans_at_every_bucket_end_stored(sqlite_engine):
    _seed(sqlite_engine)
    start = T0 - timedelta(days=DAYS)
    alerts = monitor.backtest(
        sqlite_engine, brand="acme", start=start, end=T0 + timedelta(hours=3), bucket_minutes=15
    )
    live = _scan_every_bucket(sqlite_engine, timedelta(hours=4))
    assert [pd.Timestamp(a["alerted_at"]) for a in alerts] == live


def test_baseline_hours_left__counts_from_the_first_post(sqlite_engine):
    _seed(sqlite_engine)
    assert api.baseline_hours_left(sqlite_engine, "acme") == 0.0
    first = T0 - timedelta(days=DAYS)
    left = monitor.baseline_hours_left(sqlite_engine, "acme", now=first + timedelta(hours=40))
    assert left == 8.0
    assert monitor.baseline_hours_left(sqlite_engine, "nobody", now=T0) == 48.0


def test_spikes_backtest__json_lists_each_alert(sqlite_engine, tmp_path):
    _seed(sqlite_engine)
    url = str(sqlite_engine.url)
    args = ["--database-url", url, "spikes", "backtest", "--brand", "acme"]
    window = ["--from", "2026-02-27", "--to", "2026-03-03", "--bucket-minutes", "15", "--json"]
    result = CliRunner().invoke(cli, [*args, *window])
    assert result.exit_code == 0, result.output
    [alert] = json.loads(result.output)["alerts"]
    assert alert["brand"] == "acme" and alert["alerted_at"] == "2026-03-02T12:30:00+00:00"
    assert {"bucket_start", "observed", "expected", "severity"} <= set(alert)


def test_spikes_scan__at_a_given_time(sqlite_engine):
    _seed(sqlite_engine)
    url = str(sqlite_engine.url)
    base = ["--database-url", url, "spikes", "scan", "--brand", "acme", "--no-themes"]
    for at in ("2026-03-02T12:15:00Z", "2026-03-02T12:30:00Z"):
        result = CliRunner().invoke(
            cli, [*base, "--no-alert", "--bucket-minutes", "15", "--at", at]
        )
        assert result.exit_code == 0, result.output
    assert "acme: possible incident since 2026-03-02 12:00 UTC" in result.output


def test_scan_brands__fast__strong_surge_alerts_within_minutes_once(engine):
    """1-minute buckets confirm a 10x surge in minutes; the 15-minute detector adds no second alert."""
    history = range(-DAYS * 24 * 60, 0)
    posts = [
        make_post(10**6 + 2 * m + k, "service down", author=f"u{k}", minutes=m)
        for m in history
        for k in (0, 1)
    ]
    posts += [
        make_post(100_000 + 30 * m + k, "service down", author=f"s{k}", minutes=m)
        for m in range(45)
        for k in range(20)
    ]
    with session_scope(engine) as session:
        queries.save_posts(session, posts)
    for _ in range(3):
        with session_scope(engine) as session:
            score_down_as_negative(session, "m1")
    seen = []
    for minutes in (1, 2, 3, 4, 5, 15, 30, 45):
        options = api.ScanOptions(
            brands=["acme"], alert=False, fast=True, now=T0 + timedelta(minutes=minutes)
        )
        api.scan_brands(engine, options, echo=seen.append)
    events = api.spike_events(engine, brand="acme")
    assert len(events) == 1, seen
    assert events["detected_at"][0] <= T0 + timedelta(minutes=5)  # 15-min buckets: 30
    with session_scope(engine) as session:
        standard = detector.load_state(session, "acme", 15)
        assert standard.event_id == events["id"][0]  # adopted, not opened again
