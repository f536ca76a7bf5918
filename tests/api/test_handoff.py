"""Helpdesk hand-off from the outreach table: tickets stored once, status polled back."""

from __future__ import annotations

import pytest
from zenpy import Zenpy

from flarewatch import api
from flarewatch.actions.helpdesk import WebhookHelpdesk, ZendeskHelpdesk
from flarewatch.config import ConfigError, load_settings
from tests.actions.reply_recording import recording
from tests.api.test_replies import seed


class MustNotCreate:
    name = "zendesk"

    def create(self, handoff):
        raise AssertionError(f"{handoff.scope} was handed off twice")


def test_handoff__ticket_stored_once_and_status_polled_back(engine):
    """On SQLite and PostgreSQL alike."""
    incident_id, ids = seed(engine)
    api.set_severity(engine, incident_id, "SEV2")
    handoffs = api.draft_handoffs(engine, incident_id, [ids["ann"]])
    assert [h.scope for h in handoffs] == [f"author:{ids['ann']}"]
    desk = ZendeskHelpdesk(
        Zenpy(subdomain="acme", email="ops@acme.test", token="fake", disable_cache=True), "acme"
    )
    with recording("zendesk_tickets"):
        sent = api.send_handoffs(engine, handoffs, desk)
        assert (
            api.outreach(engine, incident_id).set_index("author_id").loc[ids["ann"], "status"]
            == "handed_off"
        )
        polled = api.poll_tickets(engine, incident_id, desk)
        noted = api.note_tickets(engine, incident_id, desk, "Fixed; follow-up sent.")
    assert noted[["ticket_id", "status", "error"]].values.tolist() == [["35436", "solved", None]]
    assert sent[["ticket_id", "url", "status"]].values.tolist() == [
        ["35436", "https://acme.zendesk.com/agent/tickets/35436", "new"]
    ]
    assert polled["status"].tolist() == ["solved"]
    table = api.outreach(engine, incident_id).set_index("author_id")
    assert table.loc[ids["ann"], "status"] == "resolved"
    again = api.send_handoffs(engine, handoffs, MustNotCreate())
    assert again["error"].tolist() == ["already handed off"]
    assert api.outreach_tickets(engine, incident_id)["status"].tolist() == ["solved"]


def test_handoff__unknown_author_and_missing_setup(sqlite_engine, monkeypatch):
    monkeypatch.delenv("FLAREWATCH_HANDOFF_WEBHOOK_URL", raising=False)
    incident_id, ids = seed(sqlite_engine)
    with pytest.raises(ValueError, match="author\\(s\\) 999 are not unhappy authors"):
        api.draft_handoffs(sqlite_engine, incident_id, [ids["ann"], 999])
    with pytest.raises(ConfigError, match="zendesk_subdomain"):
        api.helpdesk_for(load_settings(dotenv=None), "zendesk", env={})
    with pytest.raises(ConfigError, match="FLAREWATCH_HANDOFF_WEBHOOK_URL"):
        api.helpdesk_for(load_settings(dotenv=None), "webhook")


def test_config__handoff_webhook_url_is_a_redacted_secret(monkeypatch):
    monkeypatch.setenv("FLAREWATCH_HANDOFF_WEBHOOK_URL", "https://hooks.test/T0/abc")
    settings = load_settings(dotenv=None)
    assert settings.secret("handoff_webhook_url") == "https://hooks.test/T0/abc"
    assert settings.redacted()["handoff_webhook_url"] == "***"
    assert isinstance(api.helpdesk_for(settings, "webhook"), WebhookHelpdesk)
