"""`flarewatch run` reads helpdesk tickets back: solved tickets resolve their authors unasked."""

from __future__ import annotations

import logging
import threading
import tomllib
from datetime import timedelta

import pytest
from zenpy import Zenpy

from flarewatch import api
from flarewatch.actions.helpdesk import ZendeskHelpdesk
from flarewatch.collectors.watch import parse_watch
from flarewatch.config import load_settings
from flarewatch.pipeline.handoff import TicketPoll, ticket_poll_for
from flarewatch.pipeline.monitor import upkeep_for
from flarewatch.pipeline.supervisor import Supervisor
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.actions.reply_recording import recording
from tests.api.test_replies import seed
from tests.conftest import T0
from tests.pipeline.test_supervisor import _wait, _watch_toml, fake  # noqa: F401 (fixture)

TOKEN = {"ZENDESK_API_TOKEN": "fake"}


def zendesk() -> ZendeskHelpdesk:
    client = Zenpy(subdomain="acme", email="ops@acme.test", token="fake", disable_cache=True)
    return ZendeskHelpdesk(client, "acme")


def _ticket(engine, incident_id: int, author_id: int, ticket_id: str, status: str) -> None:
    with session_scope(engine) as s:
        queries.save_ticket(
            s,
            incident_id,
            "zendesk",
            f"author:{author_id}",
            author_ids=[author_id],
            ticket_id=ticket_id,
            url=f"https://acme.zendesk.com/agent/tickets/{ticket_id}",
            status=status,
        )
        queries.set_outreach_status(s, incident_id, author_id, "handed_off")


def _statuses(engine, incident_id: int) -> dict[int, str]:
    table = api.outreach(engine, incident_id).set_index("author_id")
    return table["status"].to_dict()


def test_monitor_upkeep__solved_ticket_resolves_authors_and_closed_ones_are_not_asked(
    engine, caplog
):
    """On SQLite and PostgreSQL alike: the cassette holds one show of ticket 35436 and no more."""
    incident_id, ids = seed(engine)
    _ticket(engine, incident_id, ids["ann"], "35436", "new")
    _ticket(engine, incident_id, ids["bob"], "35437", "closed")  # asking for it fails the test
    poll = TicketPoll(engine, zendesk(), every=timedelta(minutes=0))
    lines: list[str] = []
    upkeep = upkeep_for(engine, [poll], lines.append)
    with caplog.at_level(logging.WARNING), recording("zendesk_ticket_poll"):
        upkeep()
        upkeep()  # due again, but no ticket is left unsolved: no request
    assert lines == [f"ticket 35436 (incident {incident_id}): solved — 1 author resolved"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert _statuses(engine, incident_id)[ids["ann"]] == "resolved"
    assert _statuses(engine, incident_id)[ids["bob"]] == "handed_off"
    tickets = api.outreach_tickets(engine, incident_id).set_index("ticket_id")["status"]
    assert tickets.to_dict() == {"35436": "solved", "35437": "closed"}


def test_ticket_poll__failing_helpdesk_logged_in_one_line_and_the_loop_goes_on(
    sqlite_engine, caplog
):
    incident_id, ids = seed(sqlite_engine)
    _ticket(sqlite_engine, incident_id, ids["ann"], "35436", "open")
    _ticket(sqlite_engine, incident_id, ids["bob"], "35437", "open")  # not asked after a failure
    poll = TicketPoll(sqlite_engine, zendesk(), every=timedelta(minutes=10))
    lines: list[str] = []
    upkeep = upkeep_for(sqlite_engine, [poll], lines.append)
    with caplog.at_level(logging.WARNING), recording("zendesk_poll_401"):
        upkeep()
        first = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        caplog.clear()
        # Due again: the recording refuses a second request, an error that is no ValueError.
        assert poll.last is not None
        lines += poll.run_due(poll.last + timedelta(minutes=10))
    assert lines == []
    (warning,) = first
    assert warning.startswith("ticket 35436 poll failed: zendesk: error 401")
    (unexpected,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert unexpected.startswith("ticket poll (zendesk) failed: CannotOverwriteExistingCassette")
    assert "\n" not in warning + unexpected
    assert _statuses(sqlite_engine, incident_id)[ids["ann"]] == "handed_off"
    with session_scope(sqlite_engine) as s:
        assert {t["status"] for t in queries.incident_tickets(s, incident_id)} == {"open"}


def test_ticket_poll__interval_respected(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    poll = TicketPoll(sqlite_engine, zendesk(), every=timedelta(minutes=10))
    with recording("zendesk_ticket_poll"):  # one show of the ticket: a second request fails
        assert poll.run_due(T0) == []  # nothing open: no request
        _ticket(sqlite_engine, incident_id, ids["ann"], "35436", "new")
        assert poll.run_due(T0 + timedelta(minutes=9, seconds=59)) == []  # not due: no request
        lines = poll.run_due(T0 + timedelta(minutes=10))
    assert lines == [f"ticket 35436 (incident {incident_id}): solved — 1 author resolved"]
    assert poll.last == T0 + timedelta(minutes=10)


def test_ticket_poll__only_open_and_recently_resolved_incidents(sqlite_engine):
    incident_id, ids = seed(sqlite_engine)
    _ticket(sqlite_engine, incident_id, ids["ann"], "35436", "pending")
    with session_scope(sqlite_engine) as s:
        queries.close_incident(s, incident_id, resolved_at=T0)
    with recording("zendesk_ticket_poll"):  # one show of the ticket: a second request fails
        poll = TicketPoll(sqlite_engine, zendesk(), every=timedelta(minutes=10))
        assert poll.run_due(T0 + timedelta(days=15)) == []  # resolved long ago: left to the CLI
        poll = TicketPoll(sqlite_engine, zendesk(), every=timedelta(minutes=10))
        lines = poll.run_due(T0 + timedelta(days=13))
    assert lines == [f"ticket 35436 (incident {incident_id}): solved — 1 author resolved"]


def test_ticket_poll_for__zendesk_settings_interval_and_off(monkeypatch):
    for name in ("ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "TICKET_POLL_MINUTES"):
        monkeypatch.delenv(f"FLAREWATCH_{name}", raising=False)
    assert ticket_poll_for(None, load_settings(dotenv=None), TOKEN) is None  # no helpdesk
    monkeypatch.setenv("FLAREWATCH_ZENDESK_SUBDOMAIN", "acme")
    monkeypatch.setenv("FLAREWATCH_ZENDESK_EMAIL", "ops@acme.test")
    assert ticket_poll_for(None, load_settings(dotenv=None), {}) is None  # no token
    poll = ticket_poll_for(None, load_settings(dotenv=None), TOKEN)
    assert poll is not None and poll.every == timedelta(minutes=10)
    assert poll.helpdesk.name == "zendesk"
    monkeypatch.setenv("FLAREWATCH_TICKET_POLL_MINUTES", "3")
    poll = ticket_poll_for(None, load_settings(dotenv=None), TOKEN)
    assert poll is not None and poll.every == timedelta(minutes=3)
    monkeypatch.setenv("FLAREWATCH_TICKET_POLL_MINUTES", "0")
    assert ticket_poll_for(None, load_settings(dotenv=None), TOKEN) is None
    monkeypatch.setenv("FLAREWATCH_TICKET_POLL_MINUTES", "-1")
    with pytest.raises(ValueError, match="ticket_poll_minutes"):
        load_settings(dotenv=None)


@pytest.mark.slow
def test_supervisor__run_loop_polls_tickets_on_its_own(sqlite_engine, fake):  # noqa: F811
    """`flarewatch run`'s supervisor, a stream running: its upkeep resolves the solved ticket."""
    incident_id, ids = seed(sqlite_engine)
    _ticket(sqlite_engine, incident_id, ids["ann"], "35436", "open")
    lines: list[str] = []
    poll = TicketPoll(sqlite_engine, zendesk(), every=timedelta(minutes=10))
    watch = parse_watch(tomllib.loads(_watch_toml(fake.url)))
    supervisor = Supervisor(
        sqlite_engine,
        watch,
        echo=lines.append,
        upkeep=upkeep_for(sqlite_engine, [poll], lines.append),
    )
    thread = threading.Thread(target=supervisor.run)
    with recording("zendesk_ticket_poll"):
        thread.start()
        try:
            assert _wait(lambda: any(line.startswith("ticket 35436") for line in lines))
        finally:
            supervisor.stop.set()
            thread.join(20)
    assert not thread.is_alive()
    assert f"ticket 35436 (incident {incident_id}): solved — 1 author resolved" in lines
    assert _statuses(sqlite_engine, incident_id)[ids["ann"]] == "resolved"
