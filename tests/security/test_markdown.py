"""User-derived text in the Markdown report and on dashboard pages stays text: no HTML, links, images."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from markdown_it import MarkdownIt

from flarewatch import api
from flarewatch.render.text import escape_markdown, safe_link
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import T0, make_post
from tests.security.hostile import HOSTILE_TEXTS

# GitHub-flavoured rendering with raw HTML allowed and bare URLs linked: the most permissive viewer.
RENDER = MarkdownIt("gfm-like", {"html": True}).render
ATTACK = "refund <img src=x onerror=alert(1)> ![p](http://attacker.example/p.png) https://attacker.example"


class KeywordEmbedder:
    def embed(self, texts, batch_size=32):
        return np.array([["refund" in t, "login" in t, 0.01] for t in texts], dtype=float)


def _assert_inert(rendered: str) -> None:
    assert "<img" not in rendered and "<a " not in rendered and "<script" not in rendered
    assert "attacker.example" in rendered  # shown as text, not dropped


@pytest.mark.parametrize("value", [*HOSTILE_TEXTS, ATTACK, "www.attacker.example", "<http://x.y>"])
def test_escape_markdown__renders_as_the_same_text(value):
    rendered = RENDER(f"- **label:** {escape_markdown(value)}")
    assert "<img" not in rendered and "<a " not in rendered and "<h" not in rendered
    assert "\n" not in escape_markdown(value) and "\r" not in escape_markdown(value)


def test_report__hostile_title_themes_and_handles_are_escaped(sqlite_engine):
    start = T0 - timedelta(days=3)
    posts = [
        make_post(
            i,
            ATTACK if i % 2 else "login broken",
            author=f"u{i % 9}<img src=x>",
            minutes=int((start - T0).total_seconds() // 60) + i * 15,
        )
        for i in range(3 * 24 * 4 + 40)
    ]
    with session_scope(sqlite_engine) as s:
        queries.save_posts(s, posts)
        unscored = queries.unscored_posts(s, "m1", limit=100_000)
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
                for pid, _ in unscored
            ],
        )
        incident = queries.open_incident(
            s,
            "Outage <img src=x onerror=alert(1)> [x](javascript:alert(1))",
            brand="acme",
            opened_at=T0 - timedelta(hours=6),
            brand_terms=["acme"],
        )
        incident_id = incident.id
    md = api.report(sqlite_engine, incident_id, embedder=KeywordEmbedder())
    assert "Still waiting" in md and "## Themes" in md and "onerror" in md
    rendered = RENDER(md)
    _assert_inert(rendered)
    assert "javascript:" not in rendered.replace("[x](javascript:alert(1))", "")
    assert 'href="javascript' not in rendered


@pytest.mark.parametrize(
    "url, kept",
    [
        ("https://x.com/a/status/1", True),
        ("http://example.org/p", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//attacker.example", False),
        (None, False),
    ],
)
def test_safe_link__only_http_urls(url, kept):
    assert (safe_link(url) is not None) is kept


HOSTILE_TITLE = "Outage <img src=x onerror=alert(1)> ![p](http://attacker.example/p.png)"


def _markdown_shown(at) -> list[str]:
    kinds = ("title", "subheader", "caption", "markdown", "warning", "error", "success", "info")
    return [el.value for kind in kinds for el in at.get(kind)]


@pytest.mark.slow
def test_dashboard__hostile_incident_title_and_brand_render_as_text(seeded_url):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    import flarewatch.dashboard
    from flarewatch.storage.engine import make_engine

    with session_scope(make_engine(seeded_url)) as s:
        queries.open_incident(s, HOSTILE_TITLE, brand="acme", severity="SEV1")
    app = str(Path(flarewatch.dashboard.__file__).parent / "app.py")
    at = AppTest.from_file(app, default_timeout=30).run()
    assert not at.exception
    pages = Path(app).parent / "app_pages"
    shown = _markdown_shown(at)
    for page in ("incidents.py", "trends.py"):
        at.switch_page(str(pages / page)).run()
        assert not at.exception, page
        shown += _markdown_shown(at)
    assert escape_markdown(HOSTILE_TITLE) in shown
    for value in shown:
        rendered = RENDER(value)
        assert "<img" not in rendered and "<a " not in rendered, value
