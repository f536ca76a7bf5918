"""AppTest runs of every dashboard page on a seeded database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import flarewatch.dashboard
from flarewatch import api
from flarewatch.domain import OutreachFilter
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope
from tests.dashboard.conftest import ANGRY_POSTS, FAN_POSTS, NOW, add_early_warning

APP = str(Path(flarewatch.dashboard.__file__).parent / "app.py")


def _run(page: str | None = None, at: AppTest | None = None) -> AppTest:
    at = (at or AppTest.from_file(APP, default_timeout=30)).run()
    if page:
        at.switch_page(str(Path(APP).parent / "app_pages" / page)).run()
    return at


def _session(url: str):
    return session_scope(make_engine(url))


def test_live__shows_timeline_with_spike_and_negative_posts(seeded_url):
    at = _run()
    assert not at.exception
    assert at.title[0].value == "App login outage"
    assert len(at.get("vega_lite_chart")) == 1
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spikes"] == "1"
    assert int(metrics["Negative"].replace(",", "")) == 120
    newest = at.dataframe[0].value
    assert len(newest) == 50 and set(newest["label"]) == {"negative"}


def test_live__groups_negative_posts_into_themes(seeded_url):
    at = _run()
    found = at.dataframe[1].value
    assert len(found) >= 1 and found["size"].sum() == 120


def test_live__says_themes_need_the_model_when_it_is_missing(seeded_url, monkeypatch):
    def missing(model=None):
        raise FileNotFoundError("flarewatch/models/default/flarewatch.json")

    monkeypatch.setattr(api, "default_embedder", missing)
    at = _run()
    assert not at.exception
    assert any("sentiment model" in i.value for i in at.info)


def test_live__early_warning_opens_an_incident(seeded_url):
    add_early_warning(seeded_url, "globex")
    at = _run()
    assert "Possible incident" in at.warning[0].value and "globex" in at.warning[0].value
    at.button(key="promote_1").click().run()
    assert not at.exception
    assert at.title[0].value == "Possible incident: negative spike about globex"
    assert not at.warning
    with _session(seeded_url) as s:
        assert queries.spike_events(s)[0]["status"] == "promoted"


def test_live__early_warning_can_be_dismissed(seeded_url):
    add_early_warning(seeded_url, "globex")
    at = _run()
    at.button(key="dismiss_1").click().run()
    # Only the going-dark warning is left (the incident is an hour old with no public update).
    assert [w.value.split(".")[0] for w in at.warning] == ["**We are silent"]
    assert at.title[0].value == "App login outage"


def test_live__a_person_relabels_the_chosen_post(seeded_url):
    at = _run()
    post_id = int(at.dataframe[0].value.iloc[0]["id"])
    at.session_state["live_post_id"] = post_id
    at.run()
    at.button_group(key=f"relabel_{post_id}").set_value("neutral").run()
    assert not at.exception
    with _session(seeded_url) as s:
        (override,) = queries.label_overrides(s)
    assert (override["post_id"], override["label"]) == (post_id, "neutral")
    # The reviewer's label wins at once: one negative post fewer, and not listed as negative.
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Negative"].replace(",", "")) == 119
    assert post_id not in set(at.dataframe[0].value["id"])


def test_live__keeps_the_chosen_incident_across_pages(seeded_url):
    at = _run()
    older = [o for o in at.selectbox(key="incident_id").options if "Checkout" in o]
    at.selectbox(key="incident_id").set_value(_id(older[0])).run()
    assert at.title[0].value == "Checkout errors"
    _run("trends.py", at)
    _run("live.py", at)
    assert at.title[0].value == "Checkout errors"


def _id(option: str) -> int:
    return int(option.split()[0].lstrip("#"))


def test_outreach__ranks_authors_and_offers_csv(seeded_url):
    at = _run("outreach.py")
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 25 and set(table["status"]) == {"new"}
    assert table["priority"].is_monotonic_decreasing
    assert table.iloc[0]["negative_posts"] == 5 and table.iloc[-1]["negative_posts"] == 4
    assert "25 unhappy authors; 25 not contacted yet." in at.caption[0].value
    assert at.get("download_button")[0].proto.label == "Download CSV (25 rows)"


def test_outreach__csv_is_built_on_download_with_every_complaint_link(seeded_url):
    from flarewatch.dashboard import data

    with _session(seeded_url) as s:
        incident_id = queries.list_incidents(s, status="open")[0].id
    rows = data.outreach_page(incident_id, OutreachFilter()).rows
    export = data.outreach_export(incident_id, OutreachFilter())
    table = list(csv.DictReader(io.StringIO(export.decode())))
    assert len(table) == len(rows) > 0
    assert all(row["latest_url"].startswith("https://") for row in table)
    assert "latest_post" not in table[0]  # post text stays out of exports


def test_outreach__saving_an_edit_stores_empty_cells_as_no_value(seeded_url):
    from flarewatch.dashboard import data

    with _session(seeded_url) as s:
        incident_id = queries.list_incidents(s, status="open")[0].id
    author_id = int(data.outreach_page(incident_id, OutreachFilter()).rows["author_id"].iloc[0])
    data.save_outreach(incident_id, author_id, "contacted", float("nan"), " ")
    with _session(seeded_url) as s:
        state = queries.outreach_states(s, incident_id)[author_id]
    assert (state["status"], state["assignee"], state["note"]) == ("contacted", None, None)


def test_outreach__filters_by_stored_status_and_keeps_filters_across_pages(seeded_url):
    at = _run("outreach.py")
    author_id = int(at.dataframe[0].value.iloc[0]["author_id"])
    with _session(seeded_url) as s:
        queries.set_outreach(s, 2, author_id, status="resolved", assignee="kim")
    st.cache_data.clear()
    at.pills(key="keep_outreach_status").set_value(["resolved"]).run()
    table = at.dataframe[0].value
    assert list(table["author_id"]) == [author_id] and table.iloc[0]["assignee"] == "kim"
    _run("sources.py", at)
    _run("outreach.py", at)
    assert at.pills(key="keep_outreach_status").value == ["resolved"]
    assert len(at.dataframe[0].value) == 1


def test_outreach__forgets_a_platform_choice_the_next_incident_does_not_offer(seeded_url):
    at = _run("outreach.py")
    at.pills(key="keep_outreach_platform").set_value(["x"]).run()
    at.selectbox(key="incident_id").set_value(1).run()
    assert not at.exception
    assert at.pills(key="keep_outreach_platform").value == []


def test_trends__breaks_down_by_platform_and_language_and_compares_incidents(seeded_url):
    at = _run("trends.py")
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 4  # platform, language, theme, comparison
    by_platform, by_language, compared, answered = (d.value for d in at.dataframe)
    assert list(answered["incident"]) == ["#2 App login outage", "#1 Checkout errors"]
    shares = answered["priority authors answered"]
    assert shares.iloc[0] == 0.0 and pd.isna(shares.iloc[1])  # #1 has no priority authors
    assert set(by_platform["platform"]) == {"x", "mastodon"}
    assert by_platform.set_index("platform").loc["x", "negative"] == 120
    assert set(by_language["language"]) == {"en", "de", "unknown"}
    assert list(compared["incident"]) == ["App login outage", "Checkout errors"]
    assert 0 < compared.iloc[0]["negative posts"] <= 120


def test_incidents__opens_changes_severity_and_closes(seeded_url):
    at = _run("incidents.py")
    assert not at.exception and len(at.dataframe[0].value) == 2
    at.text_input[0].input("Payments failing")
    at.button[0].click().run()
    assert at.session_state["incident_id"] == 3
    assert at.subheader[0].value == "#3 Payments failing"
    at.selectbox(key="severity_3").set_value("SEV1").run()
    assert "Hold marketing" in at.error[0].value
    close = next(b for b in at.button if b.label == "Resolve incident")
    close.click().run()
    assert not at.exception
    with _session(seeded_url) as s:
        incident = queries.get_incident(s, 3)
        assert (incident.severity, incident.status) == ("SEV1", "resolved")


def test_incidents__prepares_the_post_incident_report(seeded_url):
    at = _run("incidents.py")
    at.button(key="prepare_2").click().run()
    assert not at.exception
    downloads = at.get("download_button")
    assert [d.proto.label for d in downloads] == [
        "Download report (Markdown)",
        "Download report (HTML)",
        "Post-mortem (Markdown, for a wiki)",
    ]


def test_sources__shows_collector_health_and_activity(seeded_url):
    at = _run("sources.py")
    assert not at.exception
    health = at.dataframe[0].value.set_index("source")
    assert health.loc["reddit", "state"] == "failing (1 in a row)"
    assert health.loc["x", "state"] == "ok"
    assert {m.label: m.value for m in at.metric}["Failing sources"] == "1"
    activity = at.dataframe[1].value.set_index("platform")
    # Every angry post, and the fans' posts (one every 15 min back from NOW) of the last day:
    # NOW was fixed when the tests were collected, so count against the clock of this page run.
    since = datetime.now(UTC) - timedelta(hours=24)
    fans = sum(NOW - timedelta(minutes=15 * i) >= since for i in range(FAN_POSTS))
    assert fans + ANGRY_POSTS - 1 <= activity["posts"].sum() <= fans + ANGRY_POSTS


def test_every_page__explains_an_empty_database(tmp_path, monkeypatch):
    monkeypatch.setenv("FLAREWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.delenv("FLAREWATCH_DASHBOARD_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = _run()
    for page in ("outreach.py", "trends.py", "incidents.py", "sources.py", "live.py"):
        _run(page, at)
        assert not at.exception, page
        assert at.info, page


def test_password__env_password_gates_the_dashboard(seeded_url, monkeypatch):
    monkeypatch.setenv("FLAREWATCH_DASHBOARD_PASSWORD", "s3cret")
    at = _run()
    assert not at.metric and at.title[0].value == "Flarewatch"
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert at.error[0].value == "Wrong password." and not at.metric
    at.text_input[0].input("s3cret")
    at.button[0].click().run()
    assert at.title[0].value == "App login outage" and at.metric


@pytest.mark.parametrize("given, shown", [("letmein", True), ("nope", False)])
def test_password__streamlit_secret_gates_the_dashboard(seeded_url, given, shown):
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["dashboard_password"] = "letmein"
    at.run()
    at.text_input[0].input(given)
    at.button[0].click().run()
    assert bool(at.metric) is shown


def test_incidents__writes_a_postmortem_and_refuses_to_delete_it(seeded_url):
    at = _run("incidents.py")
    area = {a.label: a for a in at.text_area}
    area["Root cause"].input("Session store <b>full</b>")
    area["Fix"].input("Store resized")
    next(b for b in at.button if b.label == "Save post-mortem").click().run()
    assert not at.exception and "Post-mortem saved." in at.success[-1].value
    with _session(seeded_url) as s:
        found = queries.get_postmortem(s, 2)
    assert (found.root_cause, found.fix) == ("Session store <b>full</b>", "Store resized")
    next(b for b in at.button if b.label == "Delete incident").click().run()
    assert "has a post-mortem: archive it instead" in at.error[-1].value
    search = next(t for t in at.text_input if t.label == "Search past incidents")
    search.input("session store").run()
    found = next(d.value for d in at.dataframe if "snippet" in d.value.columns)
    assert list(found["title"]) == ["App login outage"]


def test_live__early_warning_shows_similar_past_incident_and_takes_feedback(seeded_url):
    add_early_warning(seeded_url, "globex")
    match = {
        "incident_id": 1,
        "title": "Checkout errors",
        "score": 0.93,
        "root_cause": "Payment *provider* timeout",
        "fix": "Failover added",
    }
    with _session(seeded_url) as s:
        queries.set_spike_matches(s, 1, [match])
    at = _run()
    shown = "\n".join(m.value for m in at.markdown)
    assert "**Seen before?**" in shown and "Checkout errors" in shown
    assert "Payment \\*provider\\* timeout" in shown and "Failover added" in shown
    at.get("button_group")[0].set_value("noise").run()
    assert not at.exception
    with _session(seeded_url) as s:
        assert queries.spike_events(s)[0]["feedback"] == "noise"


def test_alert_link__records_feedback_once_and_names_bad_verdicts(seeded_url):
    add_early_warning(seeded_url, "globex")
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["alert"] = "1"
    at.query_params["feedback"] = "useful"
    at.run()
    assert not at.exception and "marked useful" in at.toast[0].value
    with _session(seeded_url) as s:
        assert queries.spike_events(s)[0]["feedback"] == "useful"
    bad = AppTest.from_file(APP, default_timeout=30)
    bad.query_params["alert"] = "1"
    bad.query_params["feedback"] = "great"
    bad.run()
    assert "alert feedback 'great': expected useful or noise" in bad.toast[0].value


def test_outreach__answer_form_previews_and_sends_per_row(seeded_url, monkeypatch):
    for name in ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"):
        monkeypatch.delenv(name, raising=False)
    at = _run("outreach.py")
    assert not at.exception
    assert "Priority authors answered" in [m.label for m in at.metric]
    picked = at.multiselect(key="answer_authors")
    first = picked.options[0]
    picked.set_value([first]).run()
    at.text_input(key="answer_next_update").input("14:00 UTC").run()
    at.button(key="answer_preview").click().run()
    assert not at.exception
    drafts = at.dataframe[1].value  # after the outreach table itself
    assert len(drafts) == 1 and "14:00 UTC" in drafts["text"].iloc[0]
    assert at.button(key="answer_send").disabled
    at.text_input(key="answer_sender").input("sam").run()
    at.checkbox(key="answer_confirm").check().run()
    at.button(key="answer_send").click().run()
    assert not at.exception
    assert len(at.dataframe) == 2  # the drafts gave way to the results
    result = at.dataframe[1].value
    assert result["state"].tolist() == ["failed"]
    assert "X_API_KEY" in result["error"].iloc[0]


def test_outreach__resolved_incident_prompts_the_follow_up(seeded_url):
    with _session(seeded_url) as s:
        author = int(
            queries.outreach_authors(s, model_version="test-model", brand="acme")["author_id"].iloc[
                0
            ]
        )
        row = {
            "incident_id": 2,
            "author_id": author,
            "platform": "x",
            "replied_to": "1000",
            "kind": "reply",
            "text": "sorry",
        }
        assert queries.claim_reply(s, row)
        queries.finish_reply(s, "x", "1000", remote_id="9", url="https://x.com/i/web/status/9")
        queries.close_incident(s, 2)
    at = _run("outreach.py")
    assert not at.exception
    assert any("1 answered author(s) await a follow-up" in i.value for i in at.info)


def test_live__says_the_detector_is_learning_a_new_brands_baseline(seeded_url):
    hours = api.baseline_hours_left(make_engine(seeded_url), "acme")
    assert 0 < hours < 1  # the seeded posts span just under two days
    at = _run()
    assert not at.exception
    [note] = [c.value for c in at.caption if "learning the baseline" in c.value]
    assert "acme" in note and "1 h left" in note


def test_live__no_learning_note_once_the_baseline_is_known(seeded_url):
    from tests.conftest import make_post

    with _session(seeded_url) as s:
        queries.save_posts(s, [make_post(9000, "first post", minutes=-4 * 24 * 60)])
    at = _run()
    assert not at.exception
    assert not [c.value for c in at.caption if "learning the baseline" in c.value]


def test_sources__marks_a_feed_silent_while_its_source_runs(seeded_url):
    from datetime import timedelta

    from tests.conftest import make_post
    from tests.dashboard.conftest import SHIFT

    # globex on x: a post every 5 minutes for 4 hours, then nothing for 6 hours while x runs.
    posts = [
        make_post(7000 + i, "globex status", brand="globex", minutes=SHIFT - 6 * 60 - 5 * i)
        for i in range(48)
    ]
    with _session(seeded_url) as s:
        queries.save_posts(s, posts)
    at = _run("sources.py")
    assert not at.exception
    health = at.dataframe[0].value.set_index("source")
    assert health.loc["x", "state"] == "silent (globex)"
    assert {m.label: m.value for m in at.metric}["Silent feeds"] == "1"
    feeds = at.dataframe[2].value.set_index("brand")
    assert feeds.loc["globex", "state"] == "silent"
    assert feeds.loc["globex", "usual_gap_minutes"] == 5.0
    assert "x for globex" in at.warning[0].value
    assert timedelta(0) < feeds.loc["globex", "silent_since"] - feeds.loc["globex", "last_post_at"]
