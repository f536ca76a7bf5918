"""Silence detection: a source that succeeds but stops delivering is not calm."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from flarewatch.analysis.silence import (
    SilenceSettings,
    feed_silence,
    hour_of_week,
    learn_gaps,
    silence_alerts,
    silence_report,
)
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from flarewatch.storage.queries import silence as stored_silence
from tests.conftest import make_post

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, 00:00 UTC
KEY = ("reddit", "acme")


def history(days: int = 14, hours: int = 0) -> list[datetime]:
    """Busy days (a post every 10 minutes, 08:00-20:00), quiet nights (one an hour), up to
    `hours` into MONDAY."""
    times, moment = [], MONDAY - timedelta(days=days)
    while moment <= MONDAY + timedelta(hours=hours):
        times.append(moment)
        moment += timedelta(minutes=10 if 8 <= moment.hour < 20 else 60)
    return times


def test_learn_gaps__per_hour_of_week():
    usual = learn_gaps(history())
    assert hour_of_week(MONDAY + timedelta(hours=9)) == 9
    assert usual.by_hour[9].median == 600 and usual.by_hour[9].p95 == 600
    assert usual.by_hour[2].median == 3600
    assert usual.overall is not None and usual.overall.samples == len(history()) - 1


def test_feed_silence__night_lull_is_calm_day_gap_is_silent():
    night = history(hours=1)
    verdict = feed_silence(KEY, night, checked_until=MONDAY + timedelta(hours=3))
    assert verdict.state == "ok"  # 2 h without posts at night, where waits of 1 h are usual
    day = history(hours=9)
    verdict = feed_silence(KEY, day, checked_until=MONDAY + timedelta(hours=9, minutes=45))
    assert verdict.state == "silent"
    stretch = verdict.stretches[-1]
    assert stretch.start == MONDAY + timedelta(hours=9) and stretch.end is None
    assert stretch.silent_since == MONDAY + timedelta(hours=9, minutes=30)  # 3 x 10 min p95


def test_feed_silence__quiet_night_into_busy_morning__silent_soon_after_morning_starts():
    # From 07:00 a night wait may last 3 x 60 min; from 08:00 a day wait only 30 min.
    times = history(hours=7)
    verdict = feed_silence(KEY, times, checked_until=MONDAY + timedelta(hours=8, minutes=45))
    assert verdict.state == "silent"
    assert verdict.stretches[-1].silent_since == MONDAY + timedelta(hours=8, minutes=30)


def test_feed_silence__judged_only_while_runs_succeed():
    times = history(hours=9)
    verdict = feed_silence(KEY, times, checked_until=MONDAY + timedelta(hours=9, minutes=20))
    assert verdict.state == "ok"  # the runs after 09:20 failed: a failing source, not silence
    assert feed_silence(KEY, times, checked_until=None).state == "ok"


def test_feed_silence__too_little_history__learning():
    times = [MONDAY + timedelta(minutes=10 * i) for i in range(10)]
    verdict = feed_silence(KEY, times, checked_until=MONDAY + timedelta(days=2))
    assert verdict.state == "learning" and verdict.stretches == []


def test_silence__succeeds_without_posts__silent_alerts_once_then_recovers():
    """A clock walks forward in 5-minute runs that all succeed; posts stop at 09:00, return at 11:00."""
    settings = SilenceSettings()
    posts = history(hours=9)
    events, alerted, states = [], {}, []
    back = MONDAY + timedelta(hours=11)
    for step in range(1, 40):
        now = MONDAY + timedelta(hours=9, minutes=5 * step)
        if now >= back and now.minute % 10 == 0:
            posts.append(now)  # posts flow again every 10 minutes
        report = silence_report({KEY: posts}, {"reddit": now}, settings)
        new, alerted = silence_alerts(report, alerted)
        events += new
        states.append(report[0].state)
    assert [e.kind for e in events] == ["silent", "recovered"]
    assert events[0].stretch.silent_since == MONDAY + timedelta(hours=9, minutes=30)
    assert events[1].stretch.end == MONDAY + timedelta(hours=11)
    assert states[5] == "ok" and states[6] == "silent"  # calm at 09:30, silent after
    assert states[-1] == "ok" and alerted == {}
    timeline = feed_silence(KEY, posts, MONDAY + timedelta(hours=12)).stretches
    assert [(s.start, s.end) for s in timeline][-1] == (
        MONDAY + timedelta(hours=9),
        MONDAY + timedelta(hours=11),
    )


def test_storage_silence__arrivals_and_last_success_feed_the_report(engine):
    times = history(days=3)
    posts = [
        dataclasses.replace(make_post(i, "acmecloud fine"), platform="reddit", created_at=t)
        for i, t in enumerate(times)
    ]
    with session_scope(engine) as session:
        queries.save_posts(session, posts)
        queries.record_source_success(session, "reddit", 0, at=MONDAY + timedelta(hours=10))
    with session_scope(engine) as session:
        arrivals = stored_silence.arrival_times(session, since=MONDAY - timedelta(days=28))
        last = stored_silence.last_successes(session)
    assert arrivals[("reddit", "acme")] == times and last == {
        "reddit": MONDAY + timedelta(hours=10)
    }
    (feed,) = silence_report(arrivals, last)
    assert (feed.source, feed.state) == ("reddit", "silent")
