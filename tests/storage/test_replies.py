"""Reply claims (never two replies to one post), outreach status moves, tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import T0, make_post


def _seed(engine) -> tuple[int, int]:
    with session_scope(engine) as s:
        queries.save_posts(s, [make_post(1, "acme down", author="ann")])
        incident = queries.open_incident(s, "outage", brand="acme", opened_at=T0)
        author = queries.author_ids(s, [("x", "ann")])[("x", "ann")]
        queries.set_outreach(s, incident.id, author, status="new", assignee="kim", note="vip")
        return incident.id, author


def _row(incident_id: int, author_id: int) -> dict:
    return {
        "incident_id": incident_id,
        "author_id": author_id,
        "platform": "x",
        "replied_to": "1",
        "kind": "reply",
        "text": "sorry",
        "sender": "sam",
    }


def test_claim_reply__once_per_post_failed_ones_retried(engine):
    incident_id, author = _seed(engine)
    row = _row(incident_id, author)
    with session_scope(engine) as s:
        assert queries.claim_reply(s, row)
    with session_scope(engine) as s:
        assert not queries.claim_reply(s, row)  # still sending: a crash must not resend
        queries.finish_reply(s, "x", "1", error="x: rate limited (429)")
    with session_scope(engine) as s:
        assert queries.claim_reply(s, {**row, "text": "sorry again"})
        queries.finish_reply(s, "x", "1", remote_id="9", url="https://x.com/i/web/status/9")
    with session_scope(engine) as s:
        assert not queries.claim_reply(s, row)
        (reply,) = queries.incident_replies(s, incident_id)
    assert (reply["state"], reply["text"], reply["remote_id"], reply["error"]) == (
        "sent",
        "sorry again",
        "9",
        None,
    )
    assert reply["sent_at"] is not None
    with session_scope(engine) as s, pytest.raises(ValueError, match="reply kind 'dm'"):
        queries.claim_reply(s, {**row, "replied_to": "2", "kind": "dm"})


def test_set_outreach_status__keeps_assignee_and_note(engine):
    incident_id, author = _seed(engine)
    with session_scope(engine) as s:
        queries.set_outreach_status(s, incident_id, author, "contacted")
    with session_scope(engine) as s:
        state = queries.outreach_states(s, incident_id)[author]
        assert (state["status"], state["assignee"], state["note"]) == ("contacted", "kim", "vip")
        with pytest.raises(ValueError, match="outreach status 'done'"):
            queries.set_outreach_status(s, incident_id, author, "done")


def test_tickets__saved_once_per_scope_and_status_updated(engine):
    incident_id, author = _seed(engine)
    with session_scope(engine) as s:
        for status in ("new", "open"):
            queries.save_ticket(
                s,
                incident_id,
                "zendesk",
                f"author:{author}",
                author_ids=[author],
                ticket_id="7",
                url="https://acme.zendesk.com/agent/tickets/7",
                status=status,
            )
        queries.set_ticket_status(s, incident_id, "zendesk", f"author:{author}", "solved")
    with session_scope(engine) as s:
        (ticket,) = queries.incident_tickets(s, incident_id)
        assert (ticket["ticket_id"], ticket["status"], ticket["author_ids"]) == (
            "7",
            "solved",
            [author],
        )


def test_open_tickets__unsolved_of_open_or_recently_resolved_incidents(engine):
    incident_id, author = _seed(engine)
    with session_scope(engine) as s:
        other = queries.open_incident(s, "older outage", brand="acme", opened_at=T0).id
        for incident, scope, ticket_id, status in (
            (incident_id, "author:1", "7", "open"),
            (incident_id, "author:2", "8", "solved"),
            (incident_id, "author:3", None, None),  # the helpdesk gave no id: nothing to ask
            (incident_id, "problem", "9", None),
            (other, "problem", "10", "pending"),
        ):
            queries.save_ticket(
                s, incident, "zendesk", scope, author_ids=[author], ticket_id=ticket_id,
                url=None, status=status,
            )  # fmt: skip
        queries.save_ticket(
            s, incident_id, "webhook", "problem", author_ids=[author], ticket_id="HD-7", url=None,
            status=None,
        )  # fmt: skip
        queries.close_incident(s, other, resolved_at=T0 - timedelta(days=30))
    with session_scope(engine) as s:
        found = queries.open_tickets(s, "zendesk", ("solved", "closed"), T0 - timedelta(days=14))
        assert [(t["incident_id"], t["ticket_id"]) for t in found] == [
            (incident_id, "7"),
            (incident_id, "9"),
        ]
        older = queries.open_tickets(s, "zendesk", ("solved", "closed"), T0 - timedelta(days=31))
        assert [t["ticket_id"] for t in older] == ["7", "9", "10"]
