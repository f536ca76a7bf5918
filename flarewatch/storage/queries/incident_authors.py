"""Incident authors: each author's scored posts in an incident's window, kept with the scores."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import case, delete, func, literal, or_, select, update
from sqlalchemy.orm import Session

from flarewatch.domain import INCIDENT_AFTERMATH, INCIDENT_LOOKBACK, OTHER_LANGUAGE
from flarewatch.storage.queries._sql import as_utc, chunks, created_between, greatest, insert
from flarewatch.storage.schema import Author, Incident, IncidentAuthor, SentimentScore


class ScoreRow(NamedTuple):
    """What one stored score adds to its author's row in every incident whose window holds it."""

    model_version: str
    brand: str | None
    created_at: datetime
    author_id: int
    label: str
    p_negative: float
    engagement: int | None
    platform: str
    followers: int | None


class IncidentWindow(NamedTuple):
    """An incident's brand (None: every brand) and window; `end` None while it is open."""

    id: int
    brand: str | None
    start: datetime
    end: datetime | None

    def holds(self, row: ScoreRow) -> bool:
        """Whether the post of this score counts in the incident."""
        if self.brand is not None and row.brand != self.brand:
            return False
        return self.start <= row.created_at and (self.end is None or row.created_at < self.end)


def window_of(incident: Incident) -> IncidentWindow:
    """The window an incident is judged on: a day before it opened to a day after it resolved."""
    end = incident.resolved_at
    return IncidentWindow(
        incident.id,
        incident.brand,
        as_utc(incident.opened_at) - INCIDENT_LOOKBACK,
        None if end is None else as_utc(end) + INCIDENT_AFTERMATH,
    )


@dataclass
class _Delta:
    posts: int = 0
    negative_posts: int = 0
    p_negative_sum: float = 0.0
    engagement: int = 0
    last_post_at: datetime | None = None
    author: dict[str, Any] = field(default_factory=dict)

    def add(self, row: ScoreRow, sign: int) -> None:
        if sign > 0:
            self.author = {"platform": row.platform, "followers": row.followers}
        if row.label == OTHER_LANGUAGE:
            return
        self.posts += sign
        self.negative_posts += sign * (row.label == "negative")
        self.p_negative_sum += sign * row.p_negative
        self.engagement += sign * (row.engagement or 0)
        if sign > 0 and (self.last_post_at is None or row.created_at > self.last_post_at):
            self.last_post_at = row.created_at


def score_rows(session: Session, post_ids: Sequence[int]) -> list[ScoreRow]:
    """Every stored score of these posts that has an author and a post time, with the author."""
    rows = []
    for chunk in chunks(list(post_ids)):
        stmt = (
            select(
                SentimentScore.model_version,
                SentimentScore.brand,
                SentimentScore.created_at,
                SentimentScore.author_id,
                SentimentScore.label,
                SentimentScore.p_negative,
                SentimentScore.engagement,
                Author.platform,
                Author.followers,
            )
            .join(Author, Author.id == SentimentScore.author_id)
            .where(SentimentScore.post_id.in_(chunk), SentimentScore.created_at.is_not(None))
        )
        rows += [ScoreRow(*row) for row in session.execute(stmt)]  # type: ignore[arg-type]
    return rows


@contextmanager
def tracking_incident_authors(session: Session, post_ids: Iterable[int]) -> Iterator[None]:
    """Count what the block changes in these posts' scores into the incidents' author rows."""
    ids = list(post_ids)
    before = score_rows(session, ids) if ids else []
    yield
    if ids:
        apply_author_deltas(session, added=score_rows(session, ids), removed=before)


def apply_author_deltas(
    session: Session, *, added: Sequence[ScoreRow], removed: Sequence[ScoreRow]
) -> None:
    """Add the `added` scores to, and take the `removed` ones from, every incident holding them."""
    if not added and not removed:
        return
    _hold_for_writing(session)
    windows = _windows(session, {r.brand for r in (*added, *removed)})
    deltas: dict[tuple[int, str, int], _Delta] = {}
    for rows, sign in ((removed, -1), (added, 1)):
        for row in rows:
            for window in windows:
                if window.holds(row):
                    key = (window.id, row.model_version, row.author_id)
                    deltas.setdefault(key, _Delta()).add(row, sign)
    _upsert(session, deltas)
    gone = {(window, r.model_version, r.author_id) for r in removed for window in windows}
    _recount_last_posts(session, [(w, m, a) for w, m, a in gone if (w.id, m, a) in deltas])


def _hold_for_writing(session: Session) -> None:
    # Before the incidents are read: a rebuild (SHARE ROW EXCLUSIVE) then either waits for this
    # transaction and sees its scores, or commits first and its incident is read here.
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql("LOCK TABLE incident_authors IN ROW EXCLUSIVE MODE")


def _windows(session: Session, brands: set[str | None]) -> list[IncidentWindow]:
    named = [b for b in brands if b is not None]
    stmt = select(Incident).where(or_(Incident.brand.is_(None), Incident.brand.in_(named)))
    return [window_of(i) for i in session.scalars(stmt)]


def _upsert(session: Session, deltas: dict[tuple[int, str, int], _Delta]) -> None:
    rows = [
        {
            "incident_id": incident_id,
            "model_version": model,
            "author_id": author,
            "platform": d.author.get("platform", ""),
            "followers": d.author.get("followers"),
            "posts": d.posts,
            "negative_posts": d.negative_posts,
            "p_negative_sum": d.p_negative_sum,
            "engagement": d.engagement,
            "last_post_at": d.last_post_at,
        }
        # Sorted: every writer locks these rows in the same order, so workers never deadlock.
        for (incident_id, model, author), d in sorted(deltas.items())
    ]
    if not rows:
        return
    table = IncidentAuthor.__table__
    stmt = insert(session, table)
    new = stmt.excluded
    summed = ("posts", "negative_posts", "p_negative_sum", "engagement")
    stmt = stmt.on_conflict_do_update(
        index_elements=["incident_id", "model_version", "author_id"],
        set_={
            **{c: table.c[c] + new[c] for c in summed},
            "followers": func.coalesce(new.followers, table.c.followers),
            "last_post_at": greatest(session, new.last_post_at, table.c.last_post_at),
        },
    )
    session.execute(stmt, rows)


def _recount_last_posts(session: Session, keys: list[tuple[IncidentWindow, str, int]]) -> None:
    """Find these authors' newest counted post again: the one that went may have been it."""
    groups: dict[tuple[IncidentWindow, str], list[int]] = {}
    for window, model, author in keys:
        groups.setdefault((window, model), []).append(author)
    ia, s = IncidentAuthor, SentimentScore
    for (window, model), authors in sorted(groups.items()):
        newest = created_between(
            select(func.max(s.created_at)).where(
                s.author_id == ia.author_id,
                s.model_version == model,
                s.label != OTHER_LANGUAGE,
            ),
            s.brand,
            s.created_at,
            window.brand,
            window.start,
            window.end,
        ).scalar_subquery()
        for chunk in chunks(sorted(authors)):
            stmt = (
                update(ia)
                .where(ia.incident_id == window.id, ia.model_version == model)
                .where(ia.author_id.in_(chunk))
                .values(last_post_at=newest)
            )
            session.execute(stmt)


def rebuild_incident_authors(session: Session, incident_id: int) -> None:
    """Recount an incident's author rows from the scores in its window."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(
            "LOCK TABLE incident_authors IN SHARE ROW EXCLUSIVE MODE"
        )
    session.execute(delete(IncidentAuthor).where(IncidentAuthor.incident_id == incident_id))
    incident = session.get(Incident, incident_id)
    if incident is None:
        return
    stmt = _recount(window_of(incident))
    columns = [c.key for c in stmt.selected_columns]
    session.execute(insert(session, IncidentAuthor.__table__).from_select(columns, stmt))


def _recount(window: IncidentWindow) -> Any:
    counted = SentimentScore.label != OTHER_LANGUAGE
    s = SentimentScore
    stmt = (
        select(
            literal(window.id).label("incident_id"),
            s.model_version.label("model_version"),
            s.author_id.label("author_id"),
            func.min(Author.platform).label("platform"),
            func.min(Author.followers).label("followers"),
            func.count(case((counted, 1))).label("posts"),
            func.count(case((s.label == "negative", 1))).label("negative_posts"),
            func.coalesce(func.sum(case((counted, s.p_negative))), 0.0).label("p_negative_sum"),
            func.coalesce(func.sum(case((counted, s.engagement))), 0).label("engagement"),
            func.max(case((counted, s.created_at))).label("last_post_at"),
        )
        .join(Author, Author.id == s.author_id)
        .group_by(s.model_version, s.author_id)
    )
    return created_between(stmt, s.brand, s.created_at, window.brand, window.start, window.end)


def incident_author_drift(session: Session) -> int:
    """Incident author rows that disagree with a recount of the scores in their window."""
    drift = 0
    for incident in session.scalars(select(Incident)):
        counted = _recount(window_of(incident)).subquery()
        fresh = {
            (r.model_version, r.author_id): _counted(r) for r in session.execute(select(counted))
        }
        stmt = select(IncidentAuthor).where(IncidentAuthor.incident_id == incident.id)
        kept = {(r.model_version, r.author_id): _counted(r) for r in session.scalars(stmt)}
        keys = fresh.keys() | {k for k, v in kept.items() if v[0] or v[1]}
        drift += sum(1 for k in keys if not _same(fresh.get(k), kept.get(k)))
    return drift


def _counted(row: Any) -> tuple[Any, ...]:
    at = row.last_post_at
    return (row.posts, row.negative_posts, row.engagement, as_utc(at), row.p_negative_sum)


def _same(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> bool:
    # Sums of the same probabilities added in another order differ in the last bits.
    if a is None or b is None:
        return a is b
    return a[:4] == b[:4] and math.isclose(a[4], b[4], abs_tol=1e-9)
