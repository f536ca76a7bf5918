"""Post-mortems through the api and CLI: report and wiki export escaped, timeline, lead time, search."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner
from markdown_it import MarkdownIt

from flarewatch import api
from flarewatch.cli import cli
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.analysis.test_incident_flow import KeywordEmbedder, _incident, _seed
from tests.conftest import T0

NASTY = "<script>alert('x')</script> [click](http://evil.example) **loud** # not a heading"


def _warning(engine, minutes_before: int) -> None:
    fields = {
        "kind": "volume",
        "started_at": T0 - timedelta(minutes=minutes_before),
        "peak_at": T0,
        "detected_at": T0 - timedelta(minutes=minutes_before - 15),
        "ended_at": T0 + timedelta(minutes=30),
        "observed": 40,
        "baseline": 4.0,
        "ratio": 10.0,
        "severity": 90.0,
    }
    with session_scope(engine) as s:
        queries.open_alert_event(s, "acme", fields)


def _written(engine) -> int:
    incident_id = _incident(engine)
    api.save_postmortem(engine, incident_id, summary=NASTY, root_cause="Refund job <b>failed</b>")
    api.save_postmortem(engine, incident_id, fix="Job | fixed & rerun")
    api.add_follow_up(engine, incident_id, "Alert on [job](x) failures", owner="payments", due=T0)
    api.add_timeline_entry(engine, incident_id, T0 + timedelta(minutes=20), "Rolled back <i>")
    api.set_roles(engine, incident_id, commander="<b>ic</b>", comms_lead="comms")
    return incident_id


def test_report__postmortem_escaped_in_markdown_and_html_with_lead_time(sqlite_engine):
    _seed(sqlite_engine)
    _warning(sqlite_engine, minutes_before=45)
    incident_id = _written(sqlite_engine)
    md = api.report(sqlite_engine, incident_id, embedder=KeywordEmbedder())
    assert "Customers were talking 45 minutes before we declared it." in md
    assert "## Post-mortem" in md and "### Root cause" in md and "### Follow-up actions" in md
    rendered = MarkdownIt("commonmark").render(md)
    assert "<script>" not in rendered
    assert 'href="http://evil.example"' not in rendered and "<b>" not in rendered
    assert "&lt;script&gt;" in rendered and "Rolled back &lt;i&gt;" in rendered
    page = api.report(sqlite_engine, incident_id, fmt="html", embedder=KeywordEmbedder())
    assert "<script>" not in page and 'href="http://evil.example"' not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "Refund job &lt;b&gt;failed&lt;/b&gt;" in page and "&lt;b&gt;ic&lt;/b&gt;" in page
    assert "Customers were talking 45 minutes before we declared it." in page


def test_timeline__flarewatch_events_and_manual_entries(sqlite_engine):
    _warning(sqlite_engine, minutes_before=30)
    incident_id = _written(sqlite_engine)
    events = [
        (e.at - T0, e.event, e.source) for e in api.incident_timeline(sqlite_engine, incident_id)
    ]
    assert events == [
        (
            timedelta(minutes=-30),
            "First social signal: negative posts above baseline",
            "flarewatch",
        ),
        (timedelta(minutes=-15), "Flarewatch early warning: possible incident", "flarewatch"),
        (timedelta(0), "Incident declared (opened)", "flarewatch"),
        (timedelta(minutes=20), "Rolled back <i>", "manual"),
        (timedelta(hours=3), "Incident resolved", "flarewatch"),
    ]
    leads = api.lead_times(sqlite_engine)
    assert leads.loc[0, "lead_minutes"] == 30.0 and list(leads.columns) == api.LEAD_COLUMNS


def test_statuspage_event__is_the_first_public_update(sqlite_engine):
    from flarewatch.domain import IncidentEvent

    at = T0 + timedelta(minutes=12)
    event = IncidentEvent("statuspage", "sp1", "open", "Refunds failing", at, "SEV2")
    incident_id = api.apply_incident_event(sqlite_engine, event, brand="acme")
    assert api.lead_time(sqlite_engine, incident_id)["first_update"] == at


def test_cli__postmortem_set_note_action_done_show_search_and_delete_refused(sqlite_engine):
    url = str(sqlite_engine.url)
    run = lambda *args: CliRunner().invoke(cli, ["--database-url", url, *args])  # noqa: E731
    assert run("incident", "open", "Refunds failing", "--brand", "acme").exit_code == 0
    done = run("incident", "postmortem", "set", "1", "--root-cause", "Batch job timeout")
    assert done.exit_code == 0 and "root_cause" in done.output
    assert (
        run("incident", "postmortem", "note", "1", "Paged", "--at", "2026-03-02T12:05Z").exit_code
        == 0
    )
    added = run("incident", "postmortem", "action", "1", "Alert on timeouts", "--owner", "payments")
    assert added.output == "added follow-up action 1 to incident 1\n"
    assert run("incident", "postmortem", "done", "1").exit_code == 0
    shown = run("incident", "postmortem", "show", "1")
    assert "# Post-mortem: Refunds failing" in shown.output
    assert "- [x] Alert on timeouts — owner: payments" in shown.output
    assert "Paged (manual)" in shown.output and "Batch job timeout" in shown.output
    found = run("incident", "search", "timeouts", "--json")
    assert json.loads(found.output.splitlines()[0])["incident_id"] == 1
    assert run("incident", "search", "nothing-like-it").output == "no incident matches\n"
    refused = run("incident", "delete", "1", "--yes")
    assert refused.exit_code == 1
    assert "incident 1 has a post-mortem: archive it instead of deleting it" in refused.output
    assert "resolve it before archiving" in run("incident", "archive", "1").output
    assert run("incident", "resolve", "1").exit_code == 0
    assert run("incident", "archive", "1").output == "archived incident 1\n"
    roles = run("incident", "roles", "1", "--kind", "security", "--commander", "ic")
    assert roles.output == "incident 1: security, commander ic, comms lead —\n"


def test_cli__delete_without_postmortem_and_alert_feedback_precision(sqlite_engine):
    url = str(sqlite_engine.url)
    run = lambda *args: CliRunner().invoke(cli, ["--database-url", url, *args])  # noqa: E731
    run("incident", "open", "Blip")
    assert "add --yes" in run("incident", "delete", "1").output
    assert run("incident", "delete", "1", "--yes").output == "deleted incident 1\n"
    assert "no incident with id 1" in run("incident", "delete", "1", "--yes").output
    _warning(sqlite_engine, minutes_before=30)
    assert run("spikes", "feedback", "1", "useful").exit_code == 0
    table = run("spikes", "precision").output
    assert "acme" in table and "2026-03" in table and "1.0" in table
    assert "no spike event with id 9" in run("spikes", "feedback", "9", "noise").output


def test_report__social_handles_in_tables_are_escaped(sqlite_engine):
    import pandas as pd

    from flarewatch.render.report import _md_table

    table = _md_table(pd.DataFrame({"handle": ["<img src=x>|[a](b)"], "n": [1]}))
    rendered = MarkdownIt("commonmark").enable("table").render(table)
    assert "<img" not in rendered and "<a " not in rendered and "<td>1</td>" in rendered


def test_cli__leadtime_lists_each_incident(sqlite_engine):
    _warning(sqlite_engine, minutes_before=30)
    _incident(sqlite_engine)
    out = CliRunner().invoke(
        cli, ["--database-url", str(sqlite_engine.url), "incident", "leadtime", "--json"]
    )
    row = json.loads(out.output.splitlines()[0])
    assert (row["title"], row["lead_minutes"]) == ("Refund outage", 30.0)
