"""The update composer on the Incidents page: draft, approve as a second user, publish, marker."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

import flarewatch.dashboard
from flarewatch import api
from flarewatch.storage.engine import make_engine
from tests.actions.recording import FAKE_ENV, recording

APP = str(Path(flarewatch.dashboard.__file__).parent / "app.py")
WATCH = """
[[brands]]
name = "acme"
terms = ["acme"]

[brands.own]
x = "acmecloud"
"""
TEXT = "We are investigating login errors. Next update by 14:30 UTC."


def _page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(str(Path(APP).parent / "app_pages" / page)).run()
    return at


def test_composer__draft_approve_as_second_user_publish_then_marker(
    seeded_url, tmp_path, monkeypatch
):
    (tmp_path / "watch.toml").write_text(WATCH)
    monkeypatch.setenv("FLAREWATCH_WATCH_FILE", str(tmp_path / "watch.toml"))
    monkeypatch.setenv("FLAREWATCH_REQUIRE_APPROVAL", "1")
    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)
    at = _page("incidents.py")
    assert not at.exception
    assert "Hold marketing" in at.error[0].value  # the hold, in sight of the composer
    assert at.text_area(key="text_2").value.startswith("We are investigating App login outage.")
    at.text_area(key="text_2").input(TEXT).run()
    assert any("60/280 weighted characters" in c.value for c in at.caption)
    at.text_input(key="fw_user").input("ana").run()
    at.button(key="draft_2").click().run()
    assert not at.exception
    publish = at.button(key="publish_2")
    assert publish.disabled  # nothing leaves without the explicit confirmation
    approve = next(s for s in at.selectbox if s.label == "Draft to approve")
    assert approve.options == []  # ana cannot approve her own draft
    at.text_input(key="fw_user").input("ben").run()
    next(s for s in at.selectbox if s.label == "Draft to approve").set_value(1).run()
    at.button(key="approve_2").click().run()
    at.checkbox(key="confirm_2").check().run()
    with recording("dashboard_publish_x"):
        at.button(key="publish_2").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["x: sent https://x.com/acmecloud/status/1001"]
    markers = api.own_posts(make_engine(seeded_url), brand="acme")
    assert markers["text"].tolist() == [TEXT]
    live = _page("live.py")
    assert any(c.value.startswith("Last public update: 0 min ago") for c in live.caption)
