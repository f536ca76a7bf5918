"""Drafts, approval and sending: stored at every step, failures per destination, no double posts."""

from __future__ import annotations

import pytest

from flarewatch import api
from flarewatch.actions import Outbound, Published, PublishError, make_publisher
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.actions.recording import FAKE_ENV, recording
from tests.conftest import T0

ACCOUNTS = {"x": "acmecloud", "statuspage": "kctbh9vrtdwd"}
LONG = " ".join(["Logins fail for some customers while we roll back the release."] * 6)


def _incident(engine) -> int:
    return api.open_incident(engine, "Login errors", brand="acme", severity="SEV1", opened_at=T0).id


def _publishers(destination: str, account: str):
    return make_publisher(destination, account, FAKE_ENV)


def test_draft__one_item_per_destination_thread_where_long_and_idempotent(engine):
    incident = _incident(engine)
    first = api.draft_update(engine, incident, LONG, ACCOUNTS, drafted_by="ana")
    again = api.draft_update(engine, incident, LONG, ACCOUNTS, drafted_by="ana")
    assert not first.errors
    assert [i["id"] for i in first.items] == [i["id"] for i in again.items]
    by_destination = {i["destination"]: i for i in first.items}
    assert by_destination["x"]["parts"] and by_destination["x"]["text"].endswith("(1/2)")
    assert by_destination["statuspage"]["parts"] is None
    assert set(api.outbound(engine, incident_id=incident)["status"]) == {"draft"}


def test_preview__without_threads_over_long_text_is_an_error_per_destination():
    shown = {p.destination: p for p in api.preview_update(LONG, ACCOUNTS)}
    assert shown["x"].error is None and len(shown["x"].parts) == 2
    from flarewatch.pipeline.publish import preview

    strict = {p.destination: p for p in preview(LONG, ACCOUNTS, threads=False)}
    assert strict["x"].error.startswith("x: text is 377 weighted characters, at most 280")
    assert strict["statuspage"].error is None


def test_approve__drafter_cannot_approve_own_draft(engine):
    incident = _incident(engine)
    item = api.draft_update(engine, incident, "We are on it.", {"x": "acmecloud"}, drafted_by="ana")
    item_id = item.items[0]["id"]
    with pytest.raises(ValueError, match="other than its drafter"):
        api.approve_update(engine, item_id, "ana")
    assert api.approve_update(engine, item_id, "ben")["approved_by"] == "ben"
    with pytest.raises(ValueError, match="only a draft"):
        api.approve_update(engine, item_id, "cy")


def test_publish__dry_run_sends_and_changes_nothing(engine):
    incident = _incident(engine)
    api.draft_update(engine, incident, "We are on it.", ACCOUNTS, drafted_by="ana")
    rows = api.publish_update(engine, incident, publisher_for=_publishers)
    assert {r["dry_run"] for r in rows} == {True}
    assert set(api.outbound(engine, incident_id=incident)["status"]) == {"draft"}


def test_publish__require_approval_refuses_unapproved_items(engine):
    incident = _incident(engine)
    api.draft_update(engine, incident, "We are on it.", {"x": "acmecloud"}, drafted_by="ana")
    rows = api.publish_update(
        engine, incident, send=True, require_approval=True, publisher_for=_publishers
    )
    assert "needs another user's approval" in rows[0]["error"]
    assert api.outbound(engine, incident_id=incident)["status"].tolist() == ["draft"]


def test_publish__one_destination_failing_does_not_block_the_other(engine):
    incident = _incident(engine)
    api.draft_update(engine, incident, LONG, ACCOUNTS, drafted_by="ana")  # X: a 2-part thread
    with recording("publish_two_destinations"):
        rows = api.publish_update(engine, incident, send=True, publisher_for=_publishers)
    by_destination = {r["destination"]: r for r in rows}
    assert by_destination["x"]["status"] == "sent"
    assert by_destination["x"]["remote_ids"] == ["1001", "1002"]
    assert by_destination["x"]["url"] == "https://x.com/acmecloud/status/1001"
    assert by_destination["statuspage"]["status"] == "failed"
    assert "unauthorized" in by_destination["statuspage"]["error"]
    stored = api.outbound(engine, incident_id=incident).set_index("destination")
    assert stored.loc["x", "sent_at"] is not None
    assert stored.loc["statuspage", "attempts"] == 1


def test_publish__missing_credentials_fail_that_destination_only(engine):
    incident = _incident(engine)
    api.draft_update(engine, incident, "We are on it.", ACCOUNTS, drafted_by="ana")
    env = {k: v for k, v in FAKE_ENV.items() if not k.startswith("STATUSPAGE")}

    def publishers(destination, account):
        return make_publisher(destination, account, env)

    items = api.outbound(engine, incident_id=incident)
    page_item = items.loc[items["destination"] == "statuspage", "id"].tolist()
    rows = api.publish_update(
        engine, incident, send=True, publisher_for=publishers, item_ids=page_item
    )
    assert "STATUSPAGE_API_KEY" in rows[0]["error"]
    assert api.outbound(engine, incident_id=incident)["status"].tolist() == ["draft", "draft"]


class FlakyPublisher:
    """The platform takes the post but the answer is lost (a timeout) the first time."""

    destination = "x"
    account = "acmecloud"

    def __init__(self) -> None:
        self.posted: list[str] = []

    def publish(self, item: Outbound) -> Published:
        self.posted.append(item.text)
        if len(self.posted) == 1:
            raise PublishError("x", "timeout", "ReadTimeout", outcome_unknown=True)
        return Published((str(len(self.posted)),), None)

    def find_sent(self, item: Outbound) -> Published | None:
        return (
            Published(("1",), "https://x.com/acmecloud/status/1")
            if item.text in self.posted
            else None
        )


def test_publish__retry_after_timeout_checks_first_and_never_posts_twice(engine):
    incident = _incident(engine)
    api.draft_update(engine, incident, "We are on it.", {"x": "acmecloud"}, drafted_by="ana")
    flaky = FlakyPublisher()
    first = api.publish_update(engine, incident, send=True, publisher_for=lambda d, a: flaky)
    assert first[0]["status"] == "sending" and "timeout" in first[0]["error"]
    second = api.publish_update(engine, incident, send=True, publisher_for=lambda d, a: flaky)
    assert second[0]["status"] == "sent"
    assert second[0]["remote_id"] == "1"
    assert flaky.posted == ["We are on it."]
    assert second[0]["attempts"] == 2


def test_publish__statuspage_update_goes_to_the_incident_it_created(engine):
    incident = _incident(engine)
    page = {"statuspage": "kctbh9vrtdwd"}
    with recording("statuspage_create_update"):
        api.draft_update(engine, incident, "We are investigating.", page, drafted_by="ana")
        created = api.publish_update(engine, incident, send=True, publisher_for=_publishers)
        api.draft_update(engine, incident, "The cause is found.", page, drafted_by="ana")
        updated = api.publish_update(
            engine, incident, send=True, publisher_for=_publishers, statuspage_status="identified"
        )
    assert created[0]["remote_id"] == updated[0]["remote_id"] == "p31zjtct2jer"
    with session_scope(engine) as session:
        assert queries.linked_incident(session, "statuspage", "p31zjtct2jer").id == incident


def test_publish__a_rejected_login_fails_that_item_with_its_reason(engine):
    incident = _incident(engine)
    api.draft_update(
        engine, incident, "We are on it.", {"bluesky": "acme.bsky.social"}, drafted_by="ana"
    )
    with recording("bluesky_unauthorized"):
        (row,) = api.publish_update(engine, incident, send=True, publisher_for=_publishers)
    assert row["status"] == "failed"
    assert "bluesky: unauthorized" in row["error"]


def test_draft_post__refused_with_the_reason_while_marketing_holds(engine):
    incident = _incident(engine)
    with pytest.raises(api.HoldError, match=r"marketing hold is on: incident 1 'Login errors'"):
        api.draft_post(engine, "acme", "Spring sale: 20% off!", {"x": "acmecloud"}, drafted_by="mo")
    assert api.outbound(engine).empty
    assert incident == 1
    # Another brand has no incident: its post is drafted.
    done = api.draft_post(engine, "globex", "Spring sale!", {"x": "globex"}, drafted_by="mo")
    assert [i["incident_id"] for i in done.items] == [None]
