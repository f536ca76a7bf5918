"""Retention: purge removes text and profile data older than a date and keeps aggregate counts."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner

from flarewatch import cli as cli_module
from flarewatch.pipeline import score_pending
from flarewatch.retention import purge
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade

from ..conftest import T0, make_post
from ..helpers.keyword_scorer import KeywordScorer

VERSION = KeywordScorer.version


def _seed(engine) -> None:
    old = [make_post(i, f"worst airline {i}", author="old", minutes=i) for i in range(5)]
    both = [
        make_post(10, "cancelled", author="both"),
        make_post(11, "thanks", author="both", minutes=600),
    ]
    new = [make_post(20, "great crew", author="new", minutes=600)]
    with session_scope(engine) as s:
        queries.save_posts(s, old + both + new)
        incident = queries.open_incident(s, "Outage", brand="acme", opened_at=T0)
        author_id = queries.author_ids(s, [("x", "old")])[("x", "old")]
        queries.set_outreach(s, incident.id, author_id, status="contacted", note="called +1 555")
    score_pending(engine, KeywordScorer())


def _buckets(engine) -> list[tuple[int, str, int]]:
    with session_scope(engine) as s:
        return queries.timeline(s, model_version=VERSION, bucket_minutes=60)


def test_purge__strips_old_text_and_profiles_keeps_counts(engine):
    _seed(engine)
    before_counts = _buckets(engine)
    result = purge(engine, T0 + timedelta(hours=1))
    assert (result.posts, result.authors) == (6, 1)  # "both" still posts after the cutoff
    assert _buckets(engine) == before_counts
    with session_scope(engine) as s:
        assert queries.count_posts(s) == 8
        rows = queries.negative_posts(s, model_version=VERSION, label=None, limit=20)
        texts = {r["id"]: (r["text"], r["url"], r["handle"]) for r in rows}
        ids = queries.author_ids(s, [("x", "old"), ("x", "both"), ("x", "new")])
    assert ("x", "old") not in ids  # the platform id is replaced by a placeholder
    assert sorted(t for t, _, _ in texts.values()).count("") == 6
    assert {h for t, _, h in texts.values() if t} == {"both", "new"}
    assert all(url is None for t, url, _ in texts.values() if not t)


def test_purge__drops_outreach_notes_and_is_idempotent(engine):
    _seed(engine)
    purge(engine, T0 + timedelta(hours=1))
    with session_scope(engine) as s:
        states = list(queries.outreach_states(s, 1).values())
    assert [(o["status"], o["note"]) for o in states] == [("contacted", None)]
    again = purge(engine, T0 + timedelta(hours=1))
    assert (again.posts, again.authors) == (0, 0)


def test_purge__recollecting_an_old_post_does_not_restore_its_text(engine):
    _seed(engine)
    purge(engine, T0 + timedelta(hours=1))
    with session_scope(engine) as s:
        result = queries.save_posts(s, [make_post(0, "worst airline 0", author="old")])
        rows = queries.negative_posts(s, model_version=VERSION, label=None, limit=20)
    assert result.inserted == 0
    assert [r["text"] for r in rows if r["id"] == 1] == [""]


def test_purge__author_returning_later_gets_a_fresh_profile(engine):
    _seed(engine)
    with session_scope(engine) as s:
        purged_id = queries.author_ids(s, [("x", "old")])[("x", "old")]
    purge(engine, T0 + timedelta(hours=1))
    with session_scope(engine) as s:
        queries.save_posts(s, [make_post(30, "down again", author="old", minutes=700)])
        fresh_id = queries.author_ids(s, [("x", "old")])[("x", "old")]
    assert fresh_id != purged_id  # old posts stay unlinked from the returning account


def test_cli_purge__reports_counts(sqlite_engine, tmp_path):
    url = str(sqlite_engine.url)
    _seed(sqlite_engine)
    runner = CliRunner()
    result = runner.invoke(
        cli_module.cli, ["--database-url", url, "purge", "--before", "2026-03-02T13:00Z", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert "purged 6 posts and 1 authors" in result.output
    bad = runner.invoke(
        cli_module.cli, ["--database-url", url, "purge", "--before", "soon", "--yes"]
    )
    assert bad.exit_code == 1 and "soon" in bad.output


def test_cli_score__worker_flag_shares_work(sqlite_engine, monkeypatch):
    import flarewatch.models.transformer as transformer

    with session_scope(sqlite_engine) as s:
        queries.save_posts(s, [make_post(i, f"delayed {i}") for i in range(30)])
    monkeypatch.setattr(transformer, "load_scorer", lambda *_a, **_k: KeywordScorer())
    result = CliRunner().invoke(
        cli_module.cli,
        ["--database-url", str(sqlite_engine.url), "score", "--worker", "--worker-name", "w1"],
    )
    assert result.exit_code == 0, result.output
    assert "scored 30 posts" in result.output
    with session_scope(sqlite_engine) as s:
        assert queries.count_claims(s, VERSION) == 0


def test_purge__removed_text_is_gone_from_the_sqlite_files(tmp_path):
    path = tmp_path / "fw.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    posts = [make_post(i, f"my card is ZXQ{i:04d}, refund!", minutes=i) for i in range(300)]
    with session_scope(engine) as session:
        queries.save_posts(session, posts)
    assert b"ZXQ0042" in _files(path)
    # A reader kept open, as the dashboard would: the engine is not disposed before the check.
    purge(engine, T0 + timedelta(days=1))
    assert b"ZXQ" not in _files(path)
    engine.dispose()


def _files(path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
