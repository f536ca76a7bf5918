"""In Chromium: pick two authors on the Outreach page, preview, send to a local fake Mastodon."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from flarewatch.domain import RawAuthor, RawPost
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade
from tests.conftest import score_down_as_negative
from tests.dashboard.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_S,
    _settled,
    serve_dashboard,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian Chromium: apt-get install -y chromium"
    ),
]
AUTHORS = ("ann", "bob")


class FakeMastodon(BaseHTTPRequestHandler):
    """The few Mastodon endpoints a reply uses: instance, search (resolve) and statuses."""

    posted: ClassVar[list[dict[str, Any]]] = []

    def _json(self, body: Any, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path.startswith("/api/v1/instance"):
            return self._json({"uri": "127.0.0.1", "version": "4.3.2"})
        if url.path.startswith("/api/v2/instance"):
            return self._json(
                {"domain": "127.0.0.1", "version": "4.3.2", "api_versions": {"mastodon": 2}}
            )
        uri = parse_qs(url.query)["q"][0]
        status = {
            "id": uri.rsplit("/", 1)[-1],
            "uri": uri,
            "url": uri,
            "content": "",
            "account": {},
        }
        return self._json({"accounts": [], "statuses": [status], "hashtags": []})

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        FakeMastodon.posted.append(form)
        sid = f"90{len(FakeMastodon.posted)}"
        url = f"http://127.0.0.1/@acme/{sid}"
        self._json({"id": sid, "uri": url, "url": url, "content": form["status"], "account": {}})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def mastodon() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), FakeMastodon)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeMastodon.posted = []
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def seed(url: str) -> int:
    """Two unhappy Mastodon authors in an open incident."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    posts = [
        RawPost(
            platform="mastodon",
            external_id=f"https://social.example/users/{name}/statuses/{100 + i}",
            text=f"acme is down for {name}",
            created_at=now - timedelta(minutes=20 + i),
            author=RawAuthor("mastodon", f"{name}@social.example", handle=f"{name}@social.example"),
            brand="acme",
            url=f"https://social.example/@{name}/{100 + i}",
        )
        for i, name in enumerate(AUTHORS)
    ]
    with session_scope(engine) as s:
        queries.save_posts(s, posts)
        score_down_as_negative(s, "test-model")
        return queries.open_incident(
            s, "Login outage", brand="acme", opened_at=now - timedelta(hours=1)
        ).id


@pytest.fixture(scope="module")
def served(mastodon, tmp_path_factory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("answers")
    db = f"sqlite:///{folder / 'dash.db'}"
    seed(db)
    env = {
        **os.environ,
        "FLAREWATCH_DATABASE_URL": db,
        "FLAREWATCH_MASTODON_REPLY_INSTANCE": mastodon,
        "FLAREWATCH_MASTODON_VISIBILITY": "unlisted",
        "FLAREWATCH_REPLY_SPACING": "mastodon=0",
        "MASTODON_REPLY_TOKEN": "fake-token",
    }
    env.pop("FLAREWATCH_DASHBOARD_PASSWORD", None)
    with serve_dashboard(env, folder) as url:
        yield url, db


def statuses(db: str) -> list[str]:
    with session_scope(make_engine(db)) as s:
        incident = queries.list_incidents(s)[0]
        return sorted(o["status"] for o in queries.outreach_states(s, incident.id).values())


def test_outreach__select_two_preview_send_and_statuses_change(served):
    url, db = served
    playwright = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        page.set_default_timeout(PAGE_S * 1000)
        page.goto(url)
        page.locator('[data-testid="stSidebarNav"] a', has_text="Outreach").click()
        _settled(page, '[data-testid="stDataFrame"]')
        page.get_by_text("Answer selected authors").click()
        for name in AUTHORS:
            page.locator('[data-testid="stMultiSelect"]').first.click()
            page.get_by_role("option", name=f"@{name}@social.example").click()
            page.keyboard.press("Escape")
        page.get_by_role("button", name="Preview").click()
        page.get_by_text("Post these replies publicly").wait_for()
        page.screenshot(path=str(ARTIFACTS / "outreach_answer_preview.png"), full_page=True)
        assert FakeMastodon.posted == []  # a preview sends nothing
        page.get_by_label("Sent by").fill("sam")
        page.get_by_label("Sent by").press("Enter")
        page.get_by_text("Post these replies publicly").click()
        page.get_by_role("button", name="Send").click()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and statuses(db) != ["contacted", "contacted"]:
            time.sleep(0.5)
        # The page reruns after the send: the drafts give way to results, the metric follows.
        page.get_by_role("button", name="Send").wait_for(state="detached")
        metric = page.locator('[data-testid="stMetric"]', has_text="Priority authors answered")
        metric.get_by_text("100%").wait_for()
        _settled(page, '[data-testid="stDataFrame"]')
        page.screenshot(path=str(ARTIFACTS / "outreach_answer_sent.png"), full_page=True)
        browser.close()
    assert statuses(db) == ["contacted", "contacted"]
    assert sorted(p["in_reply_to_id"] for p in FakeMastodon.posted) == ["100", "101"]
    assert {p["visibility"] for p in FakeMastodon.posted} == {"unlisted"}
    assert all(p["status"].startswith("@") for p in FakeMastodon.posted)
    assert Path(ARTIFACTS / "outreach_answer_sent.png").exists()
