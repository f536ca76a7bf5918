"""Re-importing a post with new text scores it again; duplicate ids in one file are reported."""

from __future__ import annotations

from click.testing import CliRunner

from flarewatch.cli import cli
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope
from tests.conftest import make_post, score_down_as_negative

MODEL = "test-model"


def test_save_posts__changed_text_drops_the_stale_score(engine):
    with session_scope(engine) as s:
        queries.save_posts(s, [make_post(1, "love it"), make_post(2, "site is down")])
        score_down_as_negative(s, MODEL)
        assert queries.unscored_posts(s, MODEL, limit=10) == []
    with session_scope(engine) as s:
        result = queries.save_posts(
            s, [make_post(1, "site is down now"), make_post(2, "site is down")]
        )
        assert (result.inserted, result.text_changed) == (0, 1)
        assert [t for _, t in queries.unscored_posts(s, MODEL, limit=10)] == ["site is down now"]
        score_down_as_negative(s, MODEL)
    with session_scope(engine) as s:
        # The same text again keeps its score: only a change re-queues a post.
        again = queries.save_posts(s, [make_post(1, "site is down now")])
        assert again.text_changed == 0 and queries.unscored_posts(s, MODEL, limit=10) == []


def test_collect_replay__reports_changed_texts_and_duplicate_ids(sqlite_engine, tmp_path):
    url = sqlite_engine.url.render_as_string(hide_password=False)
    first = tmp_path / "first.csv"
    first.write_text("external_id,text,created_at\n1,fine,2026-03-02T10:00:00Z\n")
    second = tmp_path / "second.csv"
    second.write_text(
        "external_id,text,created_at\n"
        "1,now broken,2026-03-02T10:00:00Z\n"
        "2,a,2026-03-02T10:01:00Z\n"
        "2,b,2026-03-02T10:01:00Z\n"
    )
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["--database-url", url, "collect", "replay", str(first)]).exit_code == 0
    )
    with session_scope(sqlite_engine) as s:
        score_down_as_negative(s, MODEL)
    result = runner.invoke(cli, ["--database-url", url, "collect", "replay", str(second)])
    assert result.exit_code == 0, result.output
    assert "2 posts read, 1 new, 1 with changed text (scored again)" in result.output
    assert "1 duplicate ids in the file (the last copy kept)" in result.output
    with session_scope(sqlite_engine) as s:
        assert sorted(t for _, t in queries.unscored_posts(s, MODEL, limit=10)) == [
            "b",
            "now broken",
        ]
