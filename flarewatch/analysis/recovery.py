"""Who was won back: how each answered author sounds after our reply, and the answer shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from flarewatch.domain import LABELS

RECOVERY_COLUMNS = ["author_id", "answered_at", "recovery", "posts_after", "last_label"]
# An author at or above this outreach priority (0-100) is one support must answer.
PRIORITY_AUTHOR = 50.0


def classify(answered_at: datetime, later: Iterable[tuple[datetime, str]], now: datetime) -> str:
    """`recovered`, `still_unhappy` or `silent` from an author's posts after our answer.

    Only posts up to `now` count; the newest one decides (a complaint, then thanks, is won back).
    """
    labels = [label for at, label in sorted(later) if answered_at < at <= now and label in LABELS]
    if not labels:
        return "silent"
    return "still_unhappy" if labels[-1] == "negative" else "recovered"


def first_answers(replies: Iterable[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    """Each author's first sent reply or follow-up."""
    first: dict[int, Mapping[str, Any]] = {}
    for reply in replies:
        if reply["state"] != "sent" or reply["sent_at"] is None:
            continue
        author = int(reply["author_id"])
        if author not in first or reply["sent_at"] < first[author]["sent_at"]:
            first[author] = reply
    return first


def recovery_table(
    replies: Iterable[Mapping[str, Any]],
    posts: Iterable[tuple[int, datetime, str]],
    now: datetime,
) -> pd.DataFrame:
    """One row per answered author: when we first answered and how they sound since."""
    first = first_answers(replies)
    later: dict[int, list[tuple[datetime, str]]] = {}
    for author, at, label in posts:
        later.setdefault(author, []).append((at, label))
    rows = []
    for author, reply in sorted(first.items()):
        answered = reply["sent_at"]
        after = sorted(p for p in later.get(author, []) if answered < p[0] <= now)
        rows.append(
            {
                "author_id": author,
                "answered_at": answered,
                "recovery": classify(answered, after, now),
                "posts_after": len(after),
                "last_label": after[-1][1] if after else None,
            }
        )
    return pd.DataFrame(rows, columns=RECOVERY_COLUMNS)


def answer_summary(
    outreach: pd.DataFrame,
    replies: Iterable[Mapping[str, Any]],
    recovery: pd.DataFrame,
    *,
    priority_author: float = PRIORITY_AUTHOR,
) -> dict[str, Any]:
    """Answered share of priority authors, median minutes to first answer, recovered share."""
    sent = [r for r in replies if r["state"] == "sent"]
    first = first_answers(sent)
    followed = {int(r["author_id"]) for r in sent if r["kind"] == "followup"}
    priority = set(outreach.loc[outreach["priority"] >= priority_author, "author_id"].astype(int))
    waits = [
        (r["sent_at"] - r["replied_at"]).total_seconds() / 60
        for r in first.values()
        if r.get("replied_at") is not None and r["kind"] == "reply"
    ]
    counts = recovery["recovery"].value_counts().to_dict() if len(recovery) else {}
    answered = len(first)
    return {
        "priority_authors": len(priority),
        "answered_priority": len(priority & set(first)),
        "answered_share": _share(len(priority & set(first)), len(priority)),
        "answered_authors": answered,
        "followed_up": len(followed),
        "followed_up_share": _share(len(followed), answered),
        "median_minutes_to_first_answer": round(float(pd.Series(waits).median()), 1)
        if waits
        else None,
        **{state: int(counts.get(state, 0)) for state in ("recovered", "still_unhappy", "silent")},
        "recovered_share": _share(int(counts.get("recovered", 0)), answered),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
