"""Post-mortems, follow-ups, roles, archive/delete and full-text search, on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flarewatch.domain import NotFoundError
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import T0


def _incident(engine, title="Checkout outage", brand="acme", resolved=True) -> int:
    with session_scope(engine) as s:
        row = queries.open_incident(s, title, brand=brand, opened_at=T0)
        if resolved:
            queries.close_incident(s, row.id, T0 + timedelta(hours=2))
        return row.id


def test_postmortem__round_trip_partial_update_followups_and_notes(engine):
    incident_id = _incident(engine)
    with session_scope(engine) as s:
        assert queries.get_postmortem(s, incident_id) is None
        queries.save_postmortem(
            s, incident_id, {"summary": "Checkout failed", "fix": "Rolled back"}
        )
        queries.save_postmortem(s, incident_id, {"root_cause": "Expired TLS certificate"})
        action = queries.add_follow_up(s, incident_id, "Alert on expiry", owner="sre", due=T0)
        queries.add_follow_up(s, incident_id, "Rotate automatically")
        queries.add_timeline_note(s, incident_id, T0 + timedelta(minutes=5), "Pager fired")
        queries.set_follow_up_done(s, action)
    with session_scope(engine) as s:
        found = queries.get_postmortem(s, incident_id)
    assert (found.summary, found.root_cause, found.fix, found.impact) == (
        "Checkout failed",
        "Expired TLS certificate",
        "Rolled back",
        "",
    )
    assert [(f.action, f.owner, f.due, f.done) for f in found.follow_ups] == [
        ("Alert on expiry", "sre", T0, True),
        ("Rotate automatically", None, None, False),
    ]
    assert [(e.at, e.event, e.source) for e in found.manual_entries] == [
        (T0 + timedelta(minutes=5), "Pager fired", "manual")
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"owner": "x"}, "post-mortem field 'owner'"),
        ({"summary": "x" * 20_001}, "summary is 20001 characters, at most 20000 allowed"),
    ],
)
def test_postmortem__bad_fields_are_named(engine, fields, message):
    incident_id = _incident(engine)
    with pytest.raises(ValueError, match=message), session_scope(engine) as s:
        queries.save_postmortem(s, incident_id, fields)


def test_postmortem__unknown_incident_is_not_found(engine):
    with pytest.raises(NotFoundError, match="no incident with id 99"), session_scope(engine) as s:
        queries.save_postmortem(s, 99, {"summary": "x"})


def test_delete__refused_with_postmortem_archive_instead(engine):
    kept, bare = _incident(engine), _incident(engine, "Blip")
    with session_scope(engine) as s:
        queries.save_postmortem(s, kept, {"summary": "Worth keeping"})
    with (
        pytest.raises(ValueError, match="has a post-mortem: archive it"),
        session_scope(engine) as s,
    ):
        queries.delete_incident(s, kept)
    with session_scope(engine) as s:
        queries.delete_incident(s, bare)
        archived = queries.archive_incident(s, kept)
        assert archived.archived_at is not None
        assert [i.id for i in queries.incident_records(s)] == [kept]
        assert queries.get_postmortem(s, kept).summary == "Worth keeping"
        assert queries.search_incidents(s, "Blip") == []


def test_archive__an_open_incident_is_refused(engine):
    incident_id = _incident(engine, resolved=False)
    with pytest.raises(ValueError, match="still open"), session_scope(engine) as s:
        queries.archive_incident(s, incident_id)


def test_roles__kind_commander_and_comms_lead(engine):
    incident_id = _incident(engine)
    with session_scope(engine) as s:
        queries.set_incident_roles(s, incident_id, kind="security", commander="ic-on-call")
        queries.set_incident_roles(s, incident_id, comms_lead="comms")
        record = queries.find_incident(s, incident_id)
    assert (record.kind, record.commander, record.comms_lead) == ("security", "ic-on-call", "comms")
    with pytest.raises(ValueError, match="incident kind 'fire'"), session_scope(engine) as s:
        queries.set_incident_roles(s, incident_id, kind="fire")


def test_search__title_postmortem_followups_and_themes_with_stemming(engine):
    tls, login, other = (
        _incident(engine, "Checkout failing"),
        _incident(engine, "Login outage"),
        _incident(engine, "Payments slow", brand="globex"),
    )
    with session_scope(engine) as s:
        queries.save_postmortem(s, tls, {"root_cause": "Expired certificates: a checkout outage"})
        queries.add_follow_up(s, login, "Add a canary for the password service")
        queries.set_fingerprint(s, other, b"\0" * 8, ["refund", "card declined"], "m")
    with session_scope(engine) as s:
        assert [r["incident_id"] for r in queries.search_incidents(s, "certificate")] == [tls]
        assert [r["incident_id"] for r in queries.search_incidents(s, "login")] == [login]
        assert [r["incident_id"] for r in queries.search_incidents(s, "canary")] == [login]
        assert [r["incident_id"] for r in queries.search_incidents(s, "declined")] == [other]
        assert queries.search_incidents(s, "declined", brand="acme") == []
        hit = queries.search_incidents(s, "outage")
        assert {r["incident_id"] for r in hit} == {tls, login}
        assert hit[0]["incident_id"] == login  # the word is in its title
        assert hit[0]["opened_at"] == T0 and "«" in hit[0]["snippet"]


def test_search__operators_in_text_are_words_and_empty_text_is_refused(engine):
    incident_id = _incident(engine, 'DNS "NOT" OR title:x*')
    with session_scope(engine) as s:
        found = queries.search_incidents(s, 'title:x* "NOT" OR (dns')
        assert [r["incident_id"] for r in found] == [incident_id]
        with pytest.raises(ValueError, match="has no words"):
            queries.search_incidents(s, " * - ")


def test_search__renamed_incident_is_found_by_its_new_title(engine):
    incident_id = _incident(engine, "Untitled")
    with session_scope(engine) as s:
        queries.update_incident(s, incident_id, title="Queue backlog")
    with session_scope(engine) as s:
        assert [r["incident_id"] for r in queries.search_incidents(s, "backlog")] == [incident_id]
        assert queries.search_incidents(s, "untitled") == []
