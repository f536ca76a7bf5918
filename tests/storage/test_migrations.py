"""Migrations keep what is stored: every step up from 0008 keeps every post and score."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from flarewatch.storage import queries
from flarewatch.storage.engine import alembic_config, session_scope, upgrade
from tests.conftest import make_post, score_down_as_negative

FROM = "0008"


def _counts(engine) -> tuple[int, int]:
    with engine.connect() as connection:
        posts = connection.execute(text("select count(*) from posts")).scalar_one()
        scores = connection.execute(text("select count(*) from sentiment_scores")).scalar_one()
    return posts, scores


def _revisions_after(engine, base: str) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(engine))
    revisions = [r.revision for r in script.walk_revisions(base, "heads")]
    return list(reversed(revisions))[1:]


def test_upgrade__each_step_keeps_posts_and_scores(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        queries.save_posts(session, [make_post(i, "site is down") for i in range(3)])
        score_down_as_negative(session, "m1")
    command.downgrade(alembic_config(sqlite_engine), FROM)
    assert _counts(sqlite_engine) == (3, 3)
    steps = _revisions_after(sqlite_engine, FROM)
    assert steps, "no migration after 0008"
    for revision in steps:
        upgrade(sqlite_engine, revision)
        assert _counts(sqlite_engine) == (3, 3), f"migration {revision} lost rows"
