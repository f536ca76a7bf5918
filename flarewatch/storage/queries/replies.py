"""Outreach replies and helpdesk tickets: what to answer, what we sent, and tickets handed off."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flarewatch.domain import OUTREACH_STATUSES, REPLY_KINDS, NotFoundError
from flarewatch.storage.queries._sql import effective_label, score_window, upsert
from flarewatch.storage.schema import (
    Author,
    Incident,
    Outreach,
    OutreachReply,
    OutreachTicket,
    Post,
    SentimentScore,
    utcnow,
)

REPLY_COLUMNS = (
    "incident_id",
    "author_id",
    "platform",
    "replied_to",
    "replied_url",
    "replied_at",
    "kind",
    "text",
    "state",
    "remote_id",
    "url",
    "sender",
    "approved_by",
    "sent_at",
    "error",
)


def reply_targets(
    session: Session,
    author_ids: Sequence[int],
    *,
    model_version: str,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[int, dict[str, Any]]:
    """Each author's newest negative post in the window, with what a reply needs to find it."""
    newest = func.row_number().over(
        partition_by=SentimentScore.author_id,
        order_by=(SentimentScore.created_at.desc(), SentimentScore.post_id.desc()),
    )
    ranked = score_window(model_version, brand, start, end).add_columns(
        SentimentScore.post_id, newest.label("rank")
    )
    ranked = ranked.where(
        effective_label() == "negative", SentimentScore.author_id.in_(list(author_ids))
    ).subquery()
    stmt = (
        select(Post, Author.handle)
        .join(ranked, ranked.c.post_id == Post.id)
        .join(Author, Author.id == Post.author_id)
        .where(ranked.c.rank == 1)
    )
    return {
        int(post.author_id): {
            "post_id": post.id,
            "platform": post.platform,
            "external_id": post.external_id,
            "url": post.url,
            "created_at": post.created_at,
            "removed": bool(post.removed or post.purged_at),
            "text": post.text,
            "handle": handle,
        }
        for post, handle in session.execute(stmt)
        if post.author_id is not None
    }


def author_handles(session: Session, author_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Platform and handle of each author id that exists."""
    stmt = select(Author.id, Author.platform, Author.handle).where(Author.id.in_(list(author_ids)))
    return {a: {"platform": p, "handle": h} for a, p, h in session.execute(stmt)}


def claim_reply(session: Session, row: dict[str, Any]) -> bool:
    """Claim the right to answer one post: False when a reply to it was sent or is being sent.

    A failed earlier attempt is taken over; two senders racing on one post get one claim.
    """
    if row["kind"] not in REPLY_KINDS:
        raise ValueError(f"reply kind {row['kind']!r}: expected one of {', '.join(REPLY_KINDS)}")
    existing = session.scalars(
        select(OutreachReply).where(
            OutreachReply.platform == row["platform"],
            OutreachReply.replied_to == row["replied_to"],
        )
    ).first()
    values = {**row, "state": "sending", "error": None, "updated_at": utcnow()}
    if existing is not None:
        if existing.state != "failed":
            return False
        for key, value in values.items():
            setattr(existing, key, value)
        session.flush()
        return True
    try:
        with session.begin_nested():
            session.add(OutreachReply(**values))
    except IntegrityError:
        return False
    return True


def finish_reply(
    session: Session,
    platform: str,
    replied_to: str,
    *,
    remote_id: str | None = None,
    url: str | None = None,
    error: str | None = None,
    sent_at: datetime | None = None,
) -> None:
    """Record how a claimed reply went: sent (its id, URL, time) or failed (the error)."""
    reply = session.scalars(
        select(OutreachReply).where(
            OutreachReply.platform == platform, OutreachReply.replied_to == replied_to
        )
    ).one()
    reply.state = "failed" if error else "sent"
    reply.remote_id, reply.url, reply.error = remote_id, url, error
    reply.sent_at = None if error else (sent_at or utcnow())
    reply.updated_at = utcnow()


def record_failed_reply(session: Session, row: dict[str, Any], error: str) -> None:
    """Keep a reply that never reached the platform (no post to answer, too long) as failed."""
    if claim_reply(session, row):
        finish_reply(session, row["platform"], row["replied_to"], error=error)


def incident_replies(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """Every reply and follow-up of an incident, oldest first."""
    stmt = (
        select(OutreachReply)
        .where(OutreachReply.incident_id == incident_id)
        .order_by(OutreachReply.id)
    )
    return [
        {"id": r.id, **{c: getattr(r, c) for c in REPLY_COLUMNS}} for r in session.scalars(stmt)
    ]


def set_outreach_status(
    session: Session, incident_id: int, author_id: int, status: str, note: str | None = None
) -> None:
    """Move one author's outreach status, keeping the assignee and (unless given) the note."""
    if status not in OUTREACH_STATUSES:
        raise ValueError(
            f"outreach status {status!r}: expected one of {', '.join(OUTREACH_STATUSES)}"
        )
    row = session.scalars(
        select(Outreach).where(Outreach.incident_id == incident_id, Outreach.author_id == author_id)
    ).first()
    if row is None:
        row = Outreach(incident_id=incident_id, author_id=author_id)
        session.add(row)
    row.status = status
    if note is not None:
        row.note = note
    row.updated_at = utcnow()
    session.flush()


def save_ticket(
    session: Session,
    incident_id: int,
    helpdesk: str,
    scope: str,
    *,
    author_ids: Sequence[int],
    ticket_id: str | None,
    url: str | None,
    status: str | None,
) -> None:
    """Store (or refresh) the helpdesk ticket of one author or of the incident's problem."""
    now = utcnow()
    row = {
        "incident_id": incident_id,
        "helpdesk": helpdesk,
        "scope": scope,
        "author_ids": list(author_ids),
        "ticket_id": ticket_id,
        "url": url,
        "status": status,
        "created_at": now,
        "updated_at": now,
    }
    upsert(
        session,
        OutreachTicket.__table__,
        [row],
        ("helpdesk", "incident_id", "scope"),
        ("author_ids", "ticket_id", "url", "status", "updated_at"),
    )


def incident_tickets(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """Every helpdesk ticket of an incident."""
    stmt = select(OutreachTicket).where(OutreachTicket.incident_id == incident_id)
    columns = ("helpdesk", "scope", "author_ids", "ticket_id", "url", "status", "updated_at")
    return [{c: getattr(t, c) for c in columns} for t in session.scalars(stmt)]


def open_tickets(
    session: Session, helpdesk: str, closed: Sequence[str], resolved_since: datetime
) -> list[dict[str, Any]]:
    """`helpdesk`'s tickets whose status is not in `closed`, of incidents open or resolved since."""
    stmt = (
        select(OutreachTicket)
        .join(Incident, Incident.id == OutreachTicket.incident_id)
        .where(
            OutreachTicket.helpdesk == helpdesk,
            OutreachTicket.ticket_id.is_not(None),
            or_(OutreachTicket.status.is_(None), OutreachTicket.status.not_in(list(closed))),
            or_(Incident.resolved_at.is_(None), Incident.resolved_at >= resolved_since),
        )
        .order_by(OutreachTicket.id)
    )
    columns = ("incident_id", "helpdesk", "scope", "author_ids", "ticket_id", "url", "status")
    return [{c: getattr(t, c) for c in columns} for t in session.scalars(stmt)]


def set_ticket_status(
    session: Session, incident_id: int, helpdesk: str, scope: str, status: str
) -> None:
    """Store a ticket's status as last polled from the helpdesk."""
    ticket = session.scalars(
        select(OutreachTicket).where(
            OutreachTicket.incident_id == incident_id,
            OutreachTicket.helpdesk == helpdesk,
            OutreachTicket.scope == scope,
        )
    ).first()
    if ticket is None:
        raise NotFoundError(f"no {helpdesk} ticket {scope!r} for incident {incident_id}")
    ticket.status, ticket.updated_at = status, utcnow()


def posts_since(
    session: Session,
    since: dict[int, datetime],
    *,
    model_version: str,
    brand: str | None = None,
    end: datetime | None = None,
) -> list[tuple[int, datetime, str]]:
    """(author id, time, label) of each scored post by these authors after their own `since`."""
    if not since:
        return []
    stmt = score_window(model_version, brand, min(since.values()), end).add_columns(
        SentimentScore.author_id, SentimentScore.created_at, effective_label()
    )
    stmt = stmt.where(SentimentScore.author_id.in_(list(since)))
    rows = session.execute(stmt.order_by(SentimentScore.created_at))
    return [(int(a), at, label) for a, at, label in rows if at > since[int(a)]]
