"""Dashboard query benchmark: seed N posts and print the p95 ms of every query the pages run."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flarewatch import api
from flarewatch.dashboard import OUTREACH_ROWS_SHOWN
from flarewatch.domain import OutreachFilter, RawAuthor, RawPost
from flarewatch.pipeline.frames import SPIKE_HISTORY
from flarewatch.storage import queries
from flarewatch.storage.engine import current_revision, make_engine, session_scope, upgrade
from flarewatch.storage.queries.progress import SETTLE

MODEL = "bench-model"
BRANDS = ("acme", "globex", "initech", "umbrella")
BRAND_WEIGHTS = (4, 2, 2, 2)
PLATFORMS = ("x", "reddit", "mastodon", "bluesky", "hackernews")
LANGUAGES = ("en", "en", "en", "en", "de", "fr", "es", None)
DAYS = 30
# 5% of all posts are the incident's burst: acme, negative, in the last six hours.
BURST_SHARE = 0.05
BURST = timedelta(hours=6)
AUTHORS_PER_POST = 0.1
BATCH = 20_000
BUCKET_MINUTES = 15
COMPARE_BUCKET_MINUTES = 60
TARGET_MS = 300
REVIEWED = 200
EXPORT_REPEAT = 3


def _text(i: int, negative: bool) -> str:
    return f"still down, cannot log in #{i}" if negative else f"works fine for me #{i}"


def fake_posts(n: int, now: datetime, seed: int = 7) -> Iterator[RawPost]:
    """N posts over the last 30 days across brands, platforms and languages, plus a burst."""
    rng = random.Random(seed)
    authors = max(1, int(n * AUTHORS_PER_POST))
    for i in range(n):
        burst = rng.random() < BURST_SHARE
        age = rng.random() * (BURST if burst else timedelta(days=DAYS))
        platform = rng.choice(PLATFORMS)
        author = f"u{rng.randrange(authors)}"
        yield RawPost(
            platform=platform,
            external_id=str(i),
            text=_text(i, burst or rng.random() < 0.2),
            created_at=now - age,
            author=RawAuthor(platform, author, handle=author, followers=rng.randrange(50_000)),
            brand="acme" if burst else rng.choices(BRANDS, BRAND_WEIGHTS)[0],
            url=f"https://example.org/{platform}/{i}",
            language=rng.choice(LANGUAGES),
            like_count=rng.randrange(20),
        )


def _score(post_id: int, text: str) -> dict[str, Any]:
    negative = text.startswith("still down")
    return {
        "post_id": post_id,
        "label": "negative" if negative else "positive",
        "p_negative": 0.9 if negative else 0.05,
        "p_neutral": 0.05,
        "p_positive": 0.05 if negative else 0.9,
    }


def seed(engine: Engine, n: int, now: datetime) -> None:
    """Store and score N posts, open the incident under test and one resolved earlier."""
    if engine.dialect.name == "postgresql":
        copy_seed(engine, n, now)
    else:
        _save_and_score(engine, n, now)
    with session_scope(engine) as session:
        old = queries.open_incident(
            session, "Earlier outage", brand="acme", opened_at=now - timedelta(days=10)
        )
        queries.close_incident(session, old.id, resolved_at=now - timedelta(days=10, hours=-5))
        queries.open_incident(
            session, "Login outage", brand="acme", severity="SEV2", opened_at=now - BURST
        )
        queries.record_source_success(session, "x", n)


def _save_and_score(engine: Engine, n: int, now: datetime) -> None:
    batch: list[RawPost] = []
    for post in fake_posts(n, now):
        batch.append(post)
        if len(batch) == BATCH:
            with session_scope(engine) as session:
                queries.save_posts(session, batch)
            batch = []
    with session_scope(engine) as session:
        queries.save_posts(session, batch)
    while True:
        with session_scope(engine) as session:
            pending = queries.unscored_posts(session, MODEL, limit=5 * BATCH)
            if not pending:
                break
            queries.save_scores(session, MODEL, [_score(i, t) for i, t in pending])


POST_COLUMNS = (
    "id, platform, external_id, author_id, brand, text, created_at, collected_at, url, language,"
    " like_count, repost_count, reply_count, quote_count, removed"
)


def copy_seed(engine: Engine, n: int, now: datetime) -> None:
    """PostgreSQL: the same posts and scores as `_save_and_score`, streamed with COPY.

    Scores are derived in the database (INSERT ... SELECT), carrying the post's brand, time,
    author and engagement as the pipeline stores them. Progress goes to stderr.
    """
    authors = max(1, int(n * AUTHORS_PER_POST))
    followers = random.Random(11)
    collected = now.astimezone(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        with cursor.copy(
            "COPY authors (id, platform, external_id, handle, followers, verified, updated_at) FROM STDIN"
        ) as out:
            for k in range(authors):
                for p, platform in enumerate(PLATFORMS):
                    aid = k * len(PLATFORMS) + p + 1
                    row = (
                        aid,
                        platform,
                        f"u{k}",
                        f"u{k}",
                        followers.randrange(50_000),
                        False,
                        collected,
                    )
                    out.write_row(row)
        _log(f"authors: {authors * len(PLATFORMS)}")
        with cursor.copy(f"COPY posts ({POST_COLUMNS}) FROM STDIN") as out:
            for i, post in enumerate(fake_posts(n, now), start=1):
                out.write_row(_post_row(i, post, collected))
                if i % 1_000_000 == 0:
                    _log(f"posts: {i}")
        _log(f"posts: {n}, scoring")
        cursor.execute(SCORE_ALL, {"model": MODEL})
        for table in ("authors", "posts", "sentiment_scores"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
    # Posts and scores were written around save_posts and save_scores: count them into the
    # timelines' and the breakdowns' rollups.
    with session_scope(engine) as session:
        _log(f"score rollup: {queries.rebuild_score_buckets(session)} rows")
        _log(f"facet rollups: {queries.rebuild_facet_buckets(session)} rows")
    # As docs/postgres.md advises after a bulk import: statistics, and the visibility map that
    # keeps the window queries index-only.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(
            "VACUUM (ANALYZE) authors, posts, sentiment_scores, score_buckets, post_buckets,"
            " facet_buckets"
        )
    _log("seeded")


SCORE_ALL = """
INSERT INTO sentiment_scores (post_id, model_version, label, p_negative, p_neutral, p_positive,
                              scored_at, brand, created_at, author_id, engagement)
SELECT id, %(model)s, CASE WHEN neg THEN 'negative' ELSE 'positive' END,
       CASE WHEN neg THEN 0.9 ELSE 0.05 END, 0.05, CASE WHEN neg THEN 0.05 ELSE 0.9 END,
       collected_at, brand, created_at, author_id,
       like_count + repost_count + reply_count + quote_count
FROM (SELECT *, text LIKE 'still down%%' AS neg FROM posts) p
"""


def _post_row(i: int, post: RawPost, collected: datetime) -> tuple[Any, ...]:
    assert post.author is not None
    k = int(post.author.external_id[1:])
    author_id = k * len(PLATFORMS) + PLATFORMS.index(post.platform) + 1
    at = post.created_at.astimezone(UTC).replace(tzinfo=None)
    return (
        i, post.platform, post.external_id, author_id, post.brand, post.text, at, collected, post.url,
        post.language, post.like_count, 0, 0, 0, False,
    )  # fmt: skip


def _log(message: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {message}", file=sys.stderr, flush=True)


def review(engine: Engine) -> None:
    """Relabel 200 of the incident's newest posts, as reviewers would; overrides win in views."""
    with session_scope(engine) as session:
        incident = queries.list_incidents(session, status="open")[0]
        newest = queries.negative_posts(
            session, model_version=MODEL, label=None, brand=incident.brand, limit=REVIEWED
        )
        for k, post in enumerate(newest):
            label = "neutral" if k % 2 else "negative"
            queries.set_label_override(session, post["id"], label, labelled_by="bench")


def _ready(engine: Engine, n: int, revision: str) -> bool:
    if current_revision(engine) is None:
        return False
    # A database seeded by an older version: bring its schema up before reading it with this one.
    upgrade(engine, revision)
    with session_scope(engine) as session:
        return queries.count_posts(session) == n and len(queries.list_incidents(session)) == 2


def _incident(engine: Engine) -> Any:
    with session_scope(engine) as session:
        return queries.list_incidents(session, status="open")[0]


def page_queries(engine: Engine) -> dict[str, Callable[[Session], Any]]:
    """Every query the pages run, with the arguments the pages pass for the open incident."""
    incident = _incident(engine)
    start, end = api.incident_window(engine, incident)
    window: dict[str, Any] = {
        "model_version": MODEL,
        "brand": incident.brand,
        "start": start,
        "end": end,
    }
    # The Outreach page ranks and filters in the database and reads complaint texts for the
    # rows it shows.
    now = datetime.now(UTC)
    ranking: dict[str, Any] = {
        "model_version": MODEL,
        "now": now,
        "where": OutreachFilter(statuses=("new", "contacted")),
    }
    shown = api.outreach_page(engine, incident.id, limit=OUTREACH_ROWS_SHOWN).rows
    return {
        "list_incidents": queries.list_incidents,
        "get_incident": lambda s: queries.get_incident(s, incident.id),
        "time_range": lambda s: queries.time_range(s, incident.brand),
        "latest_model_version": queries.latest_model_version,
        "sentiment_buckets": lambda s: queries.timeline(s, bucket_minutes=BUCKET_MINUTES, **window),
        "sentiment_buckets_compare": lambda s: queries.timeline(
            s, bucket_minutes=COMPARE_BUCKET_MINUTES, **window
        ),
        "sentiment_buckets_spike_history": lambda s: queries.timeline(
            s, bucket_minutes=BUCKET_MINUTES, **{**window, "start": start - SPIKE_HISTORY}
        ),
        "newest_posts": lambda s: queries.negative_posts(s, **window),
        "outreach_top_authors": lambda s: queries.top_incident_authors(
            s, incident.id, limit=OUTREACH_ROWS_SHOWN, **ranking
        ),
        "outreach_counts": lambda s: queries.incident_author_counts(s, incident.id, **ranking),
        "outreach_states": lambda s: queries.outreach_states(s, incident.id),
        "latest_negative_post": lambda s: queries.latest_negative_post(
            s, shown["author_id"].tolist(), **window
        ),
        "sentiment_by_platform": lambda s: queries.sentiment_by(s, "platform", **window),
        "sentiment_by_language": lambda s: queries.sentiment_by(s, "language", **window),
        "brands": queries.brands,
        "source_health": queries.source_health,
        "platform_activity": lambda s: queries.platform_activity(
            s, since=now - timedelta(hours=24)
        ),
    }


def scorer_queries(engine: Engine) -> dict[str, Callable[[Session], Any]]:
    """What every scorer and `score --worker` runs to find its next batch (claims rolled back)."""
    lease = datetime.now(UTC) + timedelta(minutes=5)

    def claim(session: Session) -> Any:
        claimed = queries.claim_unscored(session, MODEL, "bench", limit=500, lease_until=lease)
        session.rollback()
        return claimed

    return {
        "advance_score_progress": lambda s: queries.advance_score_progress(s, MODEL),
        "unscored_posts": lambda s: queries.unscored_posts(s, MODEL, limit=500),
        "count_unscored": lambda s: queries.count_unscored(s, MODEL),
        "claim_unscored": claim,
    }


def settle_progress(engine: Engine) -> float:
    """Advance the model's progress as a worker running for a while has; returns the sweep ms.

    The first call sweeps from the first post; the second, dated `SETTLE` later, may pass the
    mark the first took (a live worker gets there ten minutes after it starts).
    """
    now = datetime.now(UTC)
    started = time.perf_counter()
    with session_scope(engine) as session:
        queries.advance_score_progress(session, MODEL, now=now - SETTLE)
    swept = (time.perf_counter() - started) * 1000
    with session_scope(engine) as session:
        queries.advance_score_progress(session, MODEL, now=now)
    return round(swept, 1)


def export_queries(engine: Engine) -> dict[str, Callable[[Session], Any]]:
    """What a download or the CLI reads for every unhappy author: proportional to the answer."""
    incident = _incident(engine)
    start, end = api.incident_window(engine, incident)
    everyone = api.outreach_authors(engine, incident.id, model_version=MODEL)["author_id"].tolist()
    return {
        "incident_author_activity": lambda s: queries.incident_author_activity(
            s, incident.id, model_version=MODEL
        ),
        "latest_negative_post_every_author": lambda s: queries.latest_negative_post(
            s, everyone, model_version=MODEL, brand=incident.brand, start=start, end=end
        ),
    }


def page_calls(engine: Engine) -> dict[str, Callable[[], Any]]:
    """The api calls a page makes, each several queries plus pandas (shown for context)."""
    incident = _incident(engine)
    start, end = api.incident_window(engine, incident)
    return {
        "api.timeline": lambda: api.timeline(
            engine, brand=incident.brand, start=start, end=end, bucket_minutes=BUCKET_MINUTES
        ),
        "api.window_spikes": lambda: api.window_spikes(
            engine, brand=incident.brand, start=start, end=end, bucket_minutes=BUCKET_MINUTES
        ),
        "outreach page": lambda: api.with_complaints(
            page := api.outreach_page(engine, incident.id, limit=OUTREACH_ROWS_SHOWN).rows,
            api.latest_complaints(engine, incident.id, page["author_id"].tolist()),
        ),
        "api.compare_incidents": lambda: api.compare_incidents(
            engine, bucket_minutes=COMPARE_BUCKET_MINUTES
        ),
    }


def p95_ms(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """The 95th percentile wall and CPU time of `repeat` runs after one warm-up run.

    On a shared machine wall time includes waiting for a core; CPU time of this process (SQLite
    runs in it) does not, so it compares runs made under different loads.
    """
    run()
    wall, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        run()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return _p95(wall), _p95(cpu)


def _p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20, method="inclusive")[-1], 1)


def _in_session(engine: Engine, query: Callable[[Session], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with session_scope(engine) as session:
            return query(session)

    return run


def run(
    url: str, n: int, repeat: int, revision: str = "head", seed_only: bool = False
) -> dict[str, Any]:
    """Seed (unless the database already holds the N posts) and time every page query."""
    engine = make_engine(url)
    seeded_s = 0.0
    if not _ready(engine, n, revision):
        upgrade(engine, revision)
        started = time.perf_counter()
        seed(engine, n, datetime.now(UTC))
        seeded_s = time.perf_counter() - started
    upgrade(engine, revision)
    if seed_only:
        return {"posts": n, "backend": url.split(":", 1)[0], "seed_seconds": round(seeded_s, 1)}
    if revision == "head":
        review(engine)
    # The path a running server takes: the dashboard's first page run finds statistics due.
    api.keep_statistics_fresh(engine)
    result: dict[str, Any] = {
        "posts": n,
        "backend": url.split(":", 1)[0],
        "schema_revision": current_revision(engine),
        "repeat": repeat,
        "seed_seconds": round(seeded_s, 1),
        "target_ms": TARGET_MS,
    }
    timed = {k: p95_ms(_in_session(engine, q), repeat) for k, q in page_queries(engine).items()}
    api_timed = {k: p95_ms(c, repeat) for k, c in page_calls(engine).items()}
    result["p95_ms"] = {k: v[0] for k, v in timed.items()}
    result["cpu_p95_ms"] = {k: v[1] for k, v in timed.items()}
    result["api_p95_ms"] = {k: v[0] for k, v in api_timed.items()}
    result["api_cpu_p95_ms"] = {k: v[1] for k, v in api_timed.items()}
    result["over_target"] = sorted(k for k, v in result["p95_ms"].items() if v > TARGET_MS)
    result["scorer_sweep_ms"] = settle_progress(engine)
    scorer = {k: p95_ms(_in_session(engine, q), repeat) for k, q in scorer_queries(engine).items()}
    result["scorer_p95_ms"] = {k: v[0] for k, v in scorer.items()}
    # Downloads and the CLI's full list read every unhappy author: timed, not held to the target.
    exports = export_queries(engine)
    result["export_ms"] = {
        k: p95_ms(_in_session(engine, q), EXPORT_REPEAT)[0] for k, q in exports.items()
    }
    result["unhappy_authors"] = len(api.outreach_authors(engine, _incident(engine).id))
    engine.dispose()
    return result


def main() -> None:
    """Parse arguments, run the benchmark, print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per query")
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: SQLite under /tmp, kept and reused while it holds --posts posts",
    )
    parser.add_argument(
        "--revision", default="head", help="schema revision to measure, e.g. 0004 for 'before'"
    )
    parser.add_argument(
        "--seed-only",
        action="store_true",
        help="seed and stop (run it in the background: nohup ... 2>seed.log &); later runs reuse it",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path('/tmp') / f'flarewatch-bench-{args.posts}.db'}"
    print(json.dumps(run(url, args.posts, args.repeat, args.revision, args.seed_only)))


if __name__ == "__main__":
    main()
