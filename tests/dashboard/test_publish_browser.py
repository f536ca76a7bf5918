"""In Chromium: draft an update, approve it as a second user, publish it to a local Statuspage
stand-in, then see our last public update on the Live page."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from flarewatch import api
from flarewatch.storage.engine import make_engine
from tests.dashboard.conftest import seed
from tests.dashboard.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_S,
    _open_page,
    _settled,
    serve_dashboard,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian Chromium"),
]
PAGE_ID = "kctbh9vrtdwd"
TEXT = "We are investigating login errors. Next update by 14:30 UTC."


@pytest.fixture
def statuspage() -> Iterator[tuple[str, list[dict]]]:
    """A Statuspage stand-in on 127.0.0.1 answering incident creation as the API documents."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "auth": self.headers["Authorization"], **body})
            incident = {
                "id": "p31zjtct2jer",
                "name": body["incident"]["name"],
                "status": body["incident"]["status"],
                "shortlink": "http://stspg.io/p31zjtct2jer",
                "incident_updates": [{"body": body["incident"]["body"]}],
            }
            payload = json.dumps(incident).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def served(tmp_path, statuspage) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    seed(url)
    watch = tmp_path / "watch.toml"
    watch.write_text(
        f'[[brands]]\nname = "acme"\nterms = ["acme"]\n[brands.own]\nstatuspage = "{PAGE_ID}"\n'
    )
    env = {
        **os.environ,
        "FLAREWATCH_DATABASE_URL": url,
        "FLAREWATCH_WATCH_FILE": str(watch),
        "FLAREWATCH_REQUIRE_APPROVAL": "1",
        "STATUSPAGE_API_KEY": "fake-statuspage-key",
        "STATUSPAGE_API_URL": statuspage[0],
    }
    env.pop("FLAREWATCH_DASHBOARD_PASSWORD", None)
    with serve_dashboard(env, tmp_path) as dashboard:
        yield dashboard, url
    log = tmp_path / "streamlit.log"
    assert "Traceback" not in log.read_text()


def _items(db: str) -> list[list]:
    items = api.outbound(make_engine(db))
    return items[["drafted_by", "approved_by", "status"]].values.tolist()


def _until(check, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "the dashboard's action never reached the database"
        time.sleep(0.5)


def _as_user(page, name: str) -> None:
    box = page.get_by_label("You are")
    box.fill(name)
    box.press("Enter")
    _settled(page, '[data-testid="stDataFrame"]')


def test_browser__draft_approve_publish_then_last_update_on_live(served, statuspage):
    playwright = pytest.importorskip("playwright.sync_api")
    url, db = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 2200})
        page.set_default_timeout(PAGE_S * 1000)
        page.goto(url)
        _settled(page, '[data-testid="stVegaLiteChart"]')
        _open_page(page, "Incidents", '[data-testid="stDataFrame"]')
        area = page.get_by_label("Update", exact=True)
        area.fill(TEXT)
        area.press("Control+Enter")
        page.get_by_text("60/– characters").first.wait_for()
        _as_user(page, "ana")
        page.get_by_role("button", name="Save as draft").click()
        _until(lambda: _items(db) == [["ana", None, "draft"]])
        _settled(page, '[data-testid="stDataFrame"]')
        _as_user(page, "ben")
        page.locator('[data-testid="stSelectbox"]', has_text="Draft to approve").click()
        page.screenshot(path=str(ARTIFACTS / "incidents_approve.png"), full_page=True)
        page.keyboard.type("1")
        page.keyboard.press("Enter")
        page.get_by_role("button", name="Approve").click()
        _until(lambda: _items(db) == [["ana", "ben", "approved"]])
        _settled(page, '[data-testid="stDataFrame"]')
        page.get_by_text("Send 1 update(s) to the public now").click()
        page.get_by_role("button", name="Publish").click()
        page.get_by_text("statuspage: sent http://stspg.io/p31zjtct2jer").wait_for()
        page.screenshot(path=str(ARTIFACTS / "incidents_published.png"), full_page=True)
        _open_page(page, "Live", '[data-testid="stVegaLiteChart"]')
        page.get_by_text("Last public update: 0 min ago").wait_for()
        browser.close()
    (sent,) = statuspage[1]
    assert sent["path"] == f"/v1/pages/{PAGE_ID}/incidents"
    assert sent["auth"] == "OAuth fake-statuspage-key"
    assert sent["incident"]["body"] == TEXT
    items = api.outbound(make_engine(db))
    assert items[["drafted_by", "approved_by", "status"]].values.tolist() == [
        ["ana", "ben", "sent"]
    ]
    markers = api.own_posts(make_engine(db), brand="acme")
    assert markers["text"].tolist() == [TEXT]
