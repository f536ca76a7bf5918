"""Who was won back, judged at a given clock time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from flarewatch.analysis.recovery import answer_summary, classify, recovery_table

T = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T + timedelta(hours=hours)


def test_classify__newest_post_up_to_now_decides():
    later = [(h(1), "negative"), (h(2), "positive")]
    assert classify(T, later, h(0.5)) == "silent"
    assert classify(T, later, h(1.5)) == "still_unhappy"
    assert classify(T, later, h(3)) == "recovered"
    assert classify(T, [(h(-1), "positive"), (h(1), "other_language")], h(3)) == "silent"
    assert classify(T, [(h(1), "neutral")], h(3)) == "recovered"


def reply(author, sent_hours, kind="reply", state="sent", replied_hours=-1.0):
    return {
        "author_id": author,
        "sent_at": h(sent_hours),
        "replied_at": h(replied_hours),
        "kind": kind,
        "state": state,
    }


def test_recovery_table_and_summary():
    replies = [reply(1, 0), reply(1, 5, "followup"), reply(2, 1), reply(3, 2, state="failed")]
    posts = [(1, h(6), "positive"), (2, h(0.5), "positive"), (2, h(4), "negative")]
    table = recovery_table(replies, posts, h(10))
    assert table[["author_id", "recovery", "posts_after"]].values.tolist() == [
        [1, "recovered", 1],
        [2, "still_unhappy", 1],
    ]
    outreach = pd.DataFrame({"author_id": [1, 2, 3, 4], "priority": [90.0, 60.0, 55.0, 10.0]})
    summary = answer_summary(outreach, replies, table)
    assert summary["priority_authors"] == 3
    assert summary["answered_share"] == round(2 / 3, 3)
    assert summary["median_minutes_to_first_answer"] == 90.0
    assert summary["followed_up"] == 1
    assert summary["recovered_share"] == 0.5
