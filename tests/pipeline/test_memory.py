"""Have we seen this before? Past incidents ranked for new spikes, in alerts; kind picks destinations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flarewatch import api
from flarewatch.alerts.channels import AlertSettings, destinations_for
from flarewatch.alerts.message import alert_from_event, email_message, slack_payload
from flarewatch.pipeline.memory import describe_spike, posts_fingerprint, similar_incidents
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.analysis.test_incident_flow import START, KeywordEmbedder, _receiver, _seed
from tests.conftest import T0, make_post
from tests.helpers import airline_memory as air

pytestmark = pytest.mark.skipif(not air.CSV.exists(), reason="airline tweets not in ../shared/data")


def test_airline_cases__own_past_incident_ranks_first(sqlite_engine):
    past, cases = air.build(air.load_tweets())
    assert len(past) >= 30 and len(cases) >= 30
    embedder = air.HashingEmbedder()
    ids = air.seed(sqlite_engine, past, cases)
    for incident_id in ids.values():
        assert api.fingerprint_incident(sqlite_engine, incident_id, embedder)
    ranks = []
    for case in cases:
        end = case.start + timedelta(hours=3)
        found, _ = posts_fingerprint(sqlite_engine, case.brand, case.start, end, embedder)
        matches = similar_incidents(sqlite_engine, found, brand=case.brand, model=embedder.version)
        assert {m["incident_id"] for m in matches} <= {
            ids[k] for k in ids if k.startswith(case.brand + "/")
        }
        ranks.append(air.rank_of(matches, ids[f"{case.brand}/{case.complaint}"]))
    assert sum(r == 1 for r in ranks) / len(ranks) >= 0.8
    assert sum(r is not None for r in ranks) / len(ranks) >= 0.95


def test_describe_spike__stores_themes_and_matches_with_cause_and_fix(sqlite_engine):
    past, cases = air.build(air.load_tweets())
    past = [p for p in past if p.brand == "Delta"]
    cases = [c for c in cases if c.brand == "Delta" and c.complaint in ("baggage", "cancelled")]
    ids = air.seed(sqlite_engine, past, cases)
    embedder = air.HashingEmbedder()
    for case in cases:
        event_id = air.fire(sqlite_engine, case)
        # No fingerprint exists yet: the first spike fingerprints the brand's resolved incidents.
        describe_spike(sqlite_engine, event_id, embedder)
        matches = api.spike_matches(sqlite_engine, event_id)
        assert matches[0]["incident_id"] == ids[f"Delta/{case.complaint}"]
        cause, fix = air.POSTMORTEMS[case.complaint]
        assert (matches[0]["root_cause"], matches[0]["fix"]) == (cause, fix)
        event = api.spike_events(sqlite_engine).set_index("id").loc[event_id]
        assert event["themes"] and event["early_warning"]
        alert = alert_from_event({**event.to_dict(), "id": event_id}, "http://dash", [])
        text = slack_payload(alert)["blocks"][0]["text"]["text"]
        assert "*Seen before?*" in text and cause in text and fix in text
        links = slack_payload(alert)["blocks"][-1]["text"]["text"]
        assert f"<http://dash/?alert={event_id}&feedback=noise|Mark noise>" in links
        assert cause in email_message(alert, "a@x", ["b@x"]).get_content()


def _past_incident(engine, title: str, word: str, day: int) -> int:
    opened = START + timedelta(days=day, hours=2)
    posts = [
        make_post(800_000 + day * 100 + k, f"{word} again", author=f"p{k}", minutes=0)
        for k in range(12)
    ]
    posts = [
        p.__class__(**{**p.__dict__, "created_at": opened + timedelta(minutes=5 * k)})
        for k, p in enumerate(posts)
    ]
    with session_scope(engine) as s:
        queries.save_posts(s, posts)
        pending = queries.unscored_posts(s, "m1", limit=1000)
        queries.save_scores(
            s,
            "m1",
            [
                {
                    "post_id": pid,
                    "label": "negative",
                    "p_negative": 0.9,
                    "p_neutral": 0.05,
                    "p_positive": 0.05,
                }
                for pid, _ in pending
            ],
        )
        row = queries.open_incident(s, title, brand="acme", opened_at=opened)
        queries.close_incident(s, row.id, opened + timedelta(hours=1))
        queries.save_postmortem(s, row.id, {"root_cause": f"{word} cause", "fix": f"{word} fix"})
        return row.id


def test_scan_spikes__early_warning_alert_names_the_similar_past_incident(sqlite_engine):
    _seed(sqlite_engine)
    refund = _past_incident(sqlite_engine, "Refunds stuck", "refund", 0)
    _past_incident(sqlite_engine, "Login broken", "login", 1)
    now = T0 + timedelta(minutes=30)
    new = api.scan_spikes(sqlite_engine, brand="acme", now=now, embedder=KeywordEmbedder())
    assert len(new) == 1 and new.loc[0, "matches"][0]["incident_id"] == refund
    server, received = _receiver()
    try:
        settings = AlertSettings(webhook_url=f"http://127.0.0.1:{server.server_port}/")
        assert api.send_spike_alerts(sqlite_engine, settings)[0]["webhook"] == "sent"
    finally:
        server.shutdown()
        server.server_close()
    first = received[0]["alert"]["matches"][0]
    assert (first["title"], first["root_cause"], first["fix"]) == (
        "Refunds stuck",
        "refund cause",
        "refund fix",
    )


def test_security_incident__spike_alert_goes_to_security_destinations(sqlite_engine):
    _seed(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        row = queries.open_incident(
            s, "Credential stuffing", brand="acme", opened_at=T0 - timedelta(hours=1)
        )
        queries.set_incident_roles(s, row.id, kind="security")
    api.scan_spikes(sqlite_engine, brand="acme", now=T0 + timedelta(minutes=30))
    server, received = _receiver()
    try:
        security = AlertSettings(webhook_url=f"http://127.0.0.1:{server.server_port}/")
        service = AlertSettings(slack_webhook_url="http://127.0.0.1:9/never")
        outcomes = api.send_spike_alerts(sqlite_engine, service, security=security)
    finally:
        server.shutdown()
        server.server_close()
    assert outcomes[0] == {"event_id": outcomes[0]["event_id"], "webhook": "sent"}
    assert received[0]["alert"]["early_warning"] is False
    assert destinations_for("security", service, AlertSettings()) is service
    assert destinations_for("service", service, security) is service
