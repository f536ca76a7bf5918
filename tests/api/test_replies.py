"""Replies and follow-ups from the outreach table: drafts, sending on recorded X, never twice."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import UTC, datetime, timedelta

import pytest

from flarewatch import api
from flarewatch.actions.repliers import XReplier
from flarewatch.actions.replies import RateLimiter, TemplateError
from flarewatch.config import load_settings
from flarewatch.render.export import outreach_csv
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.actions.reply_recording import recording
from tests.actions.test_repliers import X_ENV
from tests.analysis.test_incident_flow import KeywordEmbedder
from tests.conftest import T0, make_post, score_down_as_negative

MODEL = "test-model"
TEMPLATE = "@{handle} we know about {incident_title}: {status_url}, next update {next_update}"


class NoSleep:
    """A clock that moves only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter() -> RateLimiter:
    fake = NoSleep()
    return RateLimiter(20, clock=fake.clock, sleep=fake.sleep)


class MustNotSend:
    platform = "x"

    def reply(self, parent, text):
        raise AssertionError(f"a second reply to {parent} was attempted")


def seed(engine) -> tuple[int, dict[str, int]]:
    deleted = dataclasses.replace(make_post(103, "acme down for me", author="cat"), removed=True)
    posts = [
        make_post(101, "acme is down", author="ann", minutes=10, followers=5000),
        make_post(102, "acme down again", author="bob", minutes=20),
        deleted,
    ]
    with session_scope(engine) as s:
        queries.save_posts(s, posts)
        score_down_as_negative(s, MODEL)
        incident = queries.open_incident(s, "the login outage", brand="acme", opened_at=T0)
        ids = queries.author_ids(s, [("x", a) for a in ("ann", "bob", "cat")])
        return incident.id, {a: ids[("x", a)] for a in ("ann", "bob", "cat")}


def drafts(engine, incident_id, authors):
    return api.draft_replies(
        engine,
        incident_id,
        authors,
        template=TEMPLATE,
        status_url="https://status.acme.test",
        next_update="13:00 UTC",
    )


def test_draft_replies__fill_templates_and_name_what_cannot_be_sent(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    found = api.drafts_frame(drafts(sqlite_engine, incident_id, [ids["ann"], ids["cat"], 999]))
    assert found["text"].iloc[0] == (
        "@ann we know about the login outage: https://status.acme.test, next update 13:00 UTC"
    )
    assert found["replied_url"].iloc[0] == "https://x.com/ann/status/101"
    assert found["error"].tolist() == [
        None,
        "latest complaint was deleted (https://x.com/cat/status/103); no reply",
        "no author with id 999",
    ]


def test_draft_replies__unknown_placeholder_refused_before_sending(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    with pytest.raises(TemplateError, match=r"unknown placeholder \{ticket\}"):
        api.draft_replies(sqlite_engine, incident_id, [ids["ann"]], template="hi {ticket}")


def test_send_replies__sent_once_deleted_row_fails_batch_goes_on(engine):
    """On SQLite and PostgreSQL alike."""
    incident_id, ids = seed(engine)
    batch = drafts(engine, incident_id, [ids["ann"], ids["cat"], ids["bob"]])
    with recording("x_reply_two"):
        result = api.send_replies(
            engine,
            incident_id,
            batch,
            {"x": XReplier.from_env(X_ENV)},
            sender="sam",
            approved_by="kim",
            limiter=limiter(),
        )
    assert result["state"].tolist() == ["sent", "failed", "sent"]
    assert result["url"].tolist()[::2] == [
        "https://x.com/i/web/status/9001",
        "https://x.com/i/web/status/9002",
    ]
    assert "deleted" in result["error"].iloc[1]
    table = api.outreach(engine, incident_id).set_index("author_id")
    assert table.loc[[ids["ann"], ids["bob"], ids["cat"]], "status"].tolist() == [
        "contacted",
        "contacted",
        "new",
    ]
    trail = api.outreach_replies(engine, incident_id)
    assert trail[["replied_to", "state", "remote_id", "sender", "approved_by"]].values.tolist() == [
        ["101", "sent", "9001", "sam", "kim"],
        ["103", "failed", None, "sam", "kim"],
        ["102", "sent", "9002", "sam", "kim"],
    ]
    again = api.send_replies(
        engine, incident_id, batch, {"x": MustNotSend()}, sender="sam", limiter=limiter()
    )
    assert again["state"].tolist() == ["skipped", "failed", "skipped"]
    fresh = drafts(engine, incident_id, [ids["ann"]])
    assert fresh[0].error == "already answered: https://x.com/i/web/status/9001"


def test_send_replies__deleted_on_the_platform_is_a_row_error(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    batch = drafts(sqlite_engine, incident_id, [ids["ann"], ids["bob"]])
    with recording("x_reply_deleted_then_sent"):
        result = api.send_replies(
            sqlite_engine,
            incident_id,
            batch,
            {"x": XReplier.from_env(X_ENV)},
            sender="sam",
            limiter=limiter(),
        )
    assert result["state"].tolist() == ["failed", "sent"]
    assert "deleted or not visible" in result["error"].iloc[0]


def test_send_replies__rate_limit_stops_the_platform_for_the_batch(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    batch = drafts(sqlite_engine, incident_id, [ids["ann"], ids["bob"]])
    with recording("x_reply_429"):
        result = api.send_replies(
            sqlite_engine,
            incident_id,
            batch,
            {"x": XReplier.from_env(X_ENV)},
            sender="sam",
            limiter=limiter(),
        )
    assert result["state"].tolist() == ["failed", "failed"]
    assert result["error"].iloc[1].startswith("not sent: x: rate limited (429)")
    # A failed reply is tried again by the next batch; a sent one never is.
    with session_scope(sqlite_engine) as s:
        assert queries.claim_reply(s, _row(incident_id, ids["ann"], "101"))


def _row(incident_id, author_id, parent):
    return {
        "incident_id": incident_id,
        "author_id": author_id,
        "platform": "x",
        "replied_to": parent,
        "kind": "reply",
        "text": "t",
    }


def test_send_replies__approval(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    batch = drafts(sqlite_engine, incident_id, [ids["ann"]])
    with pytest.raises(ValueError, match="second person's approval"):
        api.send_replies(sqlite_engine, incident_id, batch, {}, sender="sam", require_approval=True)
    with pytest.raises(ValueError, match="someone other than the sender"):
        api.send_replies(sqlite_engine, incident_id, batch, {}, sender="sam", approved_by="sam")


def test_send_replies__missing_credentials_are_per_row(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    batch = drafts(sqlite_engine, incident_id, [ids["ann"]])
    repliers = api.repliers_for(load_settings(dotenv=None), {"x"}, env={})
    result = api.send_replies(sqlite_engine, incident_id, batch, repliers, sender="sam")
    assert result["state"].tolist() == ["failed"]
    assert "X_API_KEY" in result["error"].iloc[0]


def test_followups__once_resolved_under_our_reply_then_recovery(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    batch = drafts(sqlite_engine, incident_id, [ids["ann"], ids["bob"]])
    x = {"x": XReplier.from_env(X_ENV)}
    with recording("x_reply_two"):
        api.send_replies(sqlite_engine, incident_id, batch, x, sender="sam", limiter=limiter())
    with pytest.raises(ValueError, match="still open"):
        api.draft_followups(sqlite_engine, incident_id)
    api.close_incident(sqlite_engine, incident_id)
    follow = api.draft_followups(sqlite_engine, incident_id, [ids["ann"]], status_url="https://s")
    assert [(d.replied_to, d.kind, d.handle) for d in follow] == [("9001", "followup", "ann")]
    with recording("x_followup"):
        sent = api.send_replies(
            sqlite_engine, incident_id, follow, x, sender="sam", limiter=limiter()
        )
    assert sent["state"].tolist() == ["sent"]
    table = api.outreach(sqlite_engine, incident_id).set_index("author_id")
    assert table.loc[[ids["ann"], ids["bob"]], "status"].tolist() == ["followed_up", "contacted"]
    assert api.draft_followups(sqlite_engine, incident_id, [ids["ann"]])[0].error.startswith(
        "already followed up"
    )
    exported = csv.DictReader(
        io.StringIO(
            outreach_csv(
                api.with_answers(
                    sqlite_engine, incident_id, api.outreach(sqlite_engine, incident_id)
                )
            ).decode()
        )
    )
    rows = {row["handle"]: row for row in exported}
    assert rows["ann"]["status"] == "followed_up"
    assert rows["ann"]["reply_url"] == "https://x.com/i/web/status/9001"
    assert rows["ann"]["followup_url"] == "https://x.com/i/web/status/9101"
    assert (rows["bob"]["status"], rows["bob"]["followup_url"]) == ("contacted", "")
    assert rows["ann"]["recovery"] == "silent"
    md = api.report(sqlite_engine, incident_id, embedder=KeywordEmbedder())
    assert "1 contacted, 1 followed up, 0 handed off" in md
    assert "Answered 1 of 1 priority authors \\(100%\\)" in md  # Markdown-escaped
    assert "Won back 0 of 2 answered \\(0%\\): 0 still unhappy, 2 silent since." in md


def test_recovery__clock_driven(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    batch = drafts(sqlite_engine, incident_id, [ids["ann"], ids["bob"]])
    with recording("x_reply_two"):
        api.send_replies(
            sqlite_engine,
            incident_id,
            batch,
            {"x": XReplier.from_env(X_ENV)},
            sender="sam",
            limiter=limiter(),
        )
    answered = datetime.now(UTC)
    later = [
        _at(
            make_post(201, "thanks acme, all good now", author="ann"), answered + timedelta(hours=1)
        ),
        _at(make_post(202, "acme still down", author="bob"), answered + timedelta(hours=2)),
    ]
    with session_scope(sqlite_engine) as s:
        queries.save_posts(s, later)
        score_down_as_negative(s, MODEL)

    def states(hours: float) -> list[str]:
        won = api.recovery(sqlite_engine, incident_id, now=answered + timedelta(hours=hours))
        return won.set_index("author_id").loc[[ids["ann"], ids["bob"]], "recovery"].tolist()

    assert states(0.5) == ["silent", "silent"]
    assert states(1.5) == ["recovered", "silent"]
    assert states(3) == ["recovered", "still_unhappy"]
    summary = api.answers(sqlite_engine, incident_id, now=answered + timedelta(hours=3))
    assert summary["answered_authors"] == 2
    assert summary["recovered_share"] == 0.5
    assert summary["median_minutes_to_first_answer"] > 0


def _at(post, when):
    return dataclasses.replace(post, created_at=when)
