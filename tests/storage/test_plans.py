"""PostgreSQL plan guard: no query the pipeline or the dashboard runs rescans a big table per row.

Every statement is EXPLAINed at the moment it runs (same connection, same data), with work_mem
at its minimum so that a hashed subplan that only fits by luck shows up as what it becomes at
scale: a subplan run once per outer row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text

from flarewatch import api
from flarewatch.domain import OutreachFilter, RawAuthor, RawPost
from flarewatch.pipeline.ingest import import_posts
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade
from flarewatch.storage.schema import Post, SentimentScore

from ..conftest import POSTGRES_URL, postgres_schema
from ..helpers.keyword_scorer import KeywordScorer

pytestmark = pytest.mark.postgres

POSTS = 6000
AUTHORS = 400
LARGE = 1000  # rows: a relation this big must never be scanned once per outer row
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BURST = timedelta(hours=6)
SCANS = {"Seq Scan", "Bitmap Heap Scan", "Tid Scan", "Tid Range Scan"}


def _posts(start: int, n: int) -> list[RawPost]:
    """N posts over eight days before NOW; every tenth is part of a negative burst on acme."""
    posts = []
    for i in range(start, start + n):
        burst = i % 10 == 0
        age = BURST * ((i % 97) / 97) if burst else timedelta(days=8) * ((i * 7919 % n) / n)
        author = f"u{i % AUTHORS}"
        posts.append(
            RawPost(
                platform=("x", "reddit", "mastodon")[i % 3],
                external_id=str(i),
                text=f"login is down again #{i}" if burst or i % 5 == 0 else f"works great #{i}",
                created_at=NOW - age,
                author=RawAuthor("x", author, handle=author, followers=i % 5000),
                brand="acme" if burst or i % 2 else "globex",
                url=f"https://example.org/{i}",
                language="en",
                like_count=i % 13,
            )
        )
    return posts


@dataclass
class PlanGuard:
    """EXPLAINs every statement just before it runs and keeps the ones with per-row rescans."""

    sizes: dict[str, float] = field(default_factory=dict)
    explained: list[str] = field(default_factory=list)
    problems: list[tuple[str, list[str]]] = field(default_factory=list)

    def before_execute(
        self, conn: Any, cursor: Any, statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        head = statement.lstrip().split(None, 1)[0].upper()
        if many or head not in {"SELECT", "WITH", "UPDATE", "DELETE", "INSERT"}:
            return
        if head == "INSERT" and "SELECT" not in statement.upper():
            return
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, params or None)
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        self.explained.append(statement)
        found = rescans(plan[0]["Plan"], self.sizes)
        if found:
            self.problems.append((statement, found))


def rescans(node: dict[str, Any], sizes: dict[str, float], in_subplan: str = "") -> list[str]:
    """What a subplan (run per outer row, or hashed: per row once it outgrows work_mem) reads."""
    found = []
    if node.get("Parent Relationship") == "SubPlan":
        in_subplan = node.get("Subplan Name", "SubPlan")
    if in_subplan:
        relation = node.get("Relation Name", "")
        whole = node["Node Type"] in SCANS and sizes.get(relation, 0) >= LARGE
        if whole or node.get("Plan Rows", 0) >= LARGE:
            what = f"{node['Node Type']} {relation}".strip()
            found.append(f"{in_subplan}: {what} ({node.get('Plan Rows')} rows)")
    for child in node.get("Plans", []):
        found += rescans(child, sizes, in_subplan)
    return found


def _table_sizes(engine: Engine) -> dict[str, float]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, reltuples FROM pg_class"
                " WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
            )
        )
        return {name: float(size) for name, size in rows}


@pytest.fixture(scope="module")
def pg() -> Iterator[Engine]:
    """A PostgreSQL schema with work_mem at its minimum, half its posts scored, statistics fresh."""
    if not POSTGRES_URL:
        pytest.skip("FLAREWATCH_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL)")
    with postgres_schema() as schema:
        options = f"-csearch_path={schema} -cwork_mem=64kB"
        engine = make_engine(POSTGRES_URL, connect_args={"options": options})
        upgrade(engine)
        import_posts(engine, _posts(0, POSTS))
        version = KeywordScorer.version
        with session_scope(engine) as session:
            half = queries.unscored_posts(session, version, limit=POSTS // 2)
            rows = [_score(pid, body) for pid, body in half]
            queries.save_scores(session, version, rows)
            queries.open_incident(session, "Login outage", brand="acme", opened_at=NOW - BURST)
            queries.record_source_success(session, "x", POSTS)
        api.refresh_planner_statistics(engine)
        yield engine
        engine.dispose()


def _score(post_id: int, body: str) -> dict[str, Any]:
    negative = "down" in body
    return {
        "post_id": post_id,
        "label": "negative" if negative else "positive",
        "p_negative": 0.9 if negative else 0.05,
        "p_neutral": 0.05,
        "p_positive": 0.05 if negative else 0.9,
    }


def _guarded(engine: Engine) -> PlanGuard:
    guard = PlanGuard(sizes=_table_sizes(engine))
    event.listen(engine, "before_cursor_execute", guard.before_execute)
    return guard


def _pipeline(engine: Engine) -> None:
    scorer = KeywordScorer()
    api.count_pending(engine, scorer)
    api.score_pending(engine, scorer, chunk=500)  # the one-off scorer, half the posts scored
    import_posts(engine, _posts(POSTS, POSTS // 2))  # then collectors bring more ...
    worker = api.WorkerOptions("plan-guard", lease_seconds=60, poll_seconds=0)
    api.score_pending(engine, scorer, chunk=500, worker=worker)  # ... and `score --worker` runs
    # Posts collected again with new text lose their scores: the rollups and the incident's
    # authors give them back (an author's newest post looked up again), and they are rescored.
    import_posts(engine, [replace(p, text=p.text + " (edited)") for p in _posts(0, 200)])
    api.score_pending(engine, scorer, chunk=500, worker=worker)
    api.scan_brands(engine, api.ScanOptions(now=NOW, alert=False), echo=lambda _line: None)


def _dashboard(engine: Engine) -> None:
    incident = api.get_incident(engine, int(api.incidents(engine)["id"].iloc[0]))
    start, end = api.incident_window(engine, incident)
    window = {"brand": incident.brand, "start": start, "end": end}
    api.timeline(engine, bucket_minutes=15, **window)
    api.window_spikes(engine, bucket_minutes=15, **window)
    api.negative_posts(engine, **window)
    ranked = api.outreach_authors(engine, incident.id)
    authors = ranked["author_id"].tolist()
    api.with_complaints(ranked, api.latest_complaints(engine, incident.id, authors))
    api.set_outreach(engine, incident.id, authors[0], status="contacted", note="DM sent")
    api.outreach(engine, incident.id)
    api.outreach_page(engine, incident.id, limit=500)
    api.outreach_page(engine, incident.id, OutreachFilter(("new",), ("x",), 10, "u1"), limit=500)
    api.compare_incidents(engine, bucket_minutes=60)
    for column in ("platform", "language"):
        api.breakdown(engine, column, **window)
    api.brands(engine)
    api.source_health(engine)
    api.platform_activity(engine)
    api.early_warnings(engine)
    api.marketing_posture(engine, incident.id)
    # The report's themes read `negative_posts` (above), then embed them: no further query.
    api.labels(engine)
    post_id = int(api.negative_posts(engine, **window)["id"].iloc[0])
    api.set_label(engine, post_id, "neutral", labelled_by="plan-guard")
    api.set_severity(engine, incident.id, "SEV1")


def test_plans__pipeline_and_dashboard__no_per_row_rescan(pg: Engine) -> None:
    guard = _guarded(pg)
    try:
        _pipeline(pg)
        _dashboard(pg)
        api.purge(pg, before=NOW - timedelta(days=4))
    finally:
        event.remove(pg, "before_cursor_execute", guard.before_execute)
    assert any("NOT (EXISTS" in s or "NOT EXISTS" in s for s in guard.explained)
    assert any(s.lstrip().startswith("UPDATE incident_authors") for s in guard.explained)
    assert len(guard.explained) > 40, "the guard saw too few statements to mean anything"
    report = "\n\n".join(f"{'; '.join(found)}\n{sql}" for sql, found in guard.problems)
    assert not guard.problems, f"per-row subplans over large relations:\n{report}"


def test_plans__not_in_subquery__is_flagged(pg: Engine) -> None:
    """The guard itself: the NOT IN form scoring used to run is caught at this size."""
    scored = select(SentimentScore.post_id).where(SentimentScore.model_version == "keyword-test-1")
    stmt = select(Post.id).where(Post.id.not_in(scored)).order_by(Post.id).limit(500)
    guard = PlanGuard(sizes=_table_sizes(pg))
    compiled = stmt.compile(dialect=pg.dialect)
    with pg.connect() as conn:  # EXPLAIN only: running it would take seconds at this size
        cursor = conn.connection.dbapi_connection.cursor()
        guard.before_execute(conn, cursor, str(compiled), compiled.params, None, False)
    assert guard.problems, "NOT IN over the scored ids was not flagged"
    assert "SubPlan" in guard.problems[0][1][0]
