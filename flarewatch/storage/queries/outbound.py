"""Outbound items (updates, replies, follow-ups) and our own public posts: what the brand said."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from flarewatch.domain import DESTINATIONS, OUTBOUND_KINDS, OUTBOUND_STATUSES, NotFoundError
from flarewatch.storage.schema import Incident, OutboundItem, Post, utcnow

OUTBOUND_FIELDS = (
    "id",
    "destination",
    "account",
    "kind",
    "incident_id",
    "text",
    "parts",
    "reply_to",
    "status",
    "remote_id",
    "remote_ids",
    "url",
    "drafted_by",
    "approved_by",
    "created_at",
    "sent_at",
    "error",
    "idempotency_key",
    "attempts",
)
# Moves a publisher may make; anything else is a mistake in the caller.
_MOVES = {
    "draft": ("approved", "sending", "failed"),
    "approved": ("sending", "failed"),
    "sending": ("sent", "failed", "sending"),
    "failed": ("sending", "failed"),
    "sent": (),
}


def _row(item: OutboundItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in OUTBOUND_FIELDS}


def _get(session: Session, item_id: int) -> OutboundItem:
    item = session.get(OutboundItem, item_id)
    if item is None:
        raise NotFoundError(f"no outbound item with id {item_id}")
    return item


def save_outbound(
    session: Session,
    *,
    destination: str,
    text: str,
    idempotency_key: str,
    kind: str = "update",
    account: str | None = None,
    incident_id: int | None = None,
    parts: Sequence[str] = (),
    reply_to: str | None = None,
    drafted_by: str | None = None,
) -> dict[str, Any]:
    """Store a draft; a second save with the same idempotency key returns the first, unchanged."""
    if destination not in DESTINATIONS:
        raise ValueError(f"destination {destination!r}: expected one of {', '.join(DESTINATIONS)}")
    if kind not in OUTBOUND_KINDS:
        raise ValueError(f"kind {kind!r}: expected one of {', '.join(OUTBOUND_KINDS)}")
    found = session.scalar(
        select(OutboundItem).where(OutboundItem.idempotency_key == idempotency_key)
    )
    if found is not None:
        return _row(found)
    item = OutboundItem(
        destination=destination,
        account=account,
        kind=kind,
        incident_id=incident_id,
        text=text,
        parts=list(parts) or None,
        reply_to=reply_to,
        status="draft",
        drafted_by=drafted_by,
        created_at=utcnow(),
        idempotency_key=idempotency_key,
        attempts=0,
    )
    session.add(item)
    session.flush()
    return _row(item)


def outbound_item(session: Session, item_id: int) -> dict[str, Any]:
    """One outbound item as a dict, or NotFoundError naming the id."""
    return _row(_get(session, item_id))


def outbound_items(
    session: Session,
    *,
    incident_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Outbound items, oldest first, optionally of one incident, kind or status."""
    stmt = select(OutboundItem).order_by(OutboundItem.created_at, OutboundItem.id)
    if incident_id is not None:
        stmt = stmt.where(OutboundItem.incident_id == incident_id)
    if kind is not None:
        stmt = stmt.where(OutboundItem.kind == kind)
    if status is not None:
        stmt = stmt.where(OutboundItem.status == status)
    return [_row(i) for i in session.scalars(stmt)]


def approve_outbound(session: Session, item_id: int, approved_by: str) -> dict[str, Any]:
    """Approve a draft; whoever drafted it cannot approve it (the two-person rule)."""
    item = _get(session, item_id)
    if item.status != "draft":
        raise ValueError(f"outbound item {item_id} is {item.status}, only a draft can be approved")
    if not approved_by or approved_by == item.drafted_by:
        raise ValueError(f"outbound item {item_id}: approval needs a user other than its drafter")
    item.status = "approved"
    item.approved_by = approved_by
    return _row(item)


def set_outbound_status(
    session: Session,
    item_id: int,
    status: str,
    *,
    remote_id: str | None = None,
    remote_ids: Sequence[str] | None = None,
    url: str | None = None,
    error: str | None = None,
    at: datetime | None = None,
    attempt: bool = False,
) -> dict[str, Any]:
    """Move an item along draft → approved → sending → sent | failed, keeping what came back.

    `attempt` counts a try at sending; "sent" records remote ids, URL and time; an error is
    kept (also on an item left "sending" when the outcome is unknown).
    """
    if status not in OUTBOUND_STATUSES:
        raise ValueError(f"status {status!r}: expected one of {', '.join(OUTBOUND_STATUSES)}")
    item = _get(session, item_id)
    if status not in _MOVES[item.status]:
        raise ValueError(f"outbound item {item_id} is {item.status}; it cannot become {status}")
    item.status = status
    if attempt:
        item.attempts = (item.attempts or 0) + 1
    if remote_ids is not None:
        item.remote_ids = list(remote_ids)
        item.remote_id = remote_ids[0] if remote_ids else None
    item.remote_id = remote_id or item.remote_id
    item.url = url or item.url
    if status == "sent":
        item.sent_at, item.error = at or utcnow(), None
    if error is not None:
        item.error = error
    return _row(item)


def last_public_update(
    session: Session, brand: str | None, *, before: datetime | None = None
) -> datetime | None:
    """When the brand last spoke in public: its own collected posts or an update we sent."""
    own = select(func.max(Post.created_at)).where(Post.is_own == true())
    sent = (
        select(func.max(OutboundItem.sent_at))
        .outerjoin(Incident, Incident.id == OutboundItem.incident_id)
        .where(OutboundItem.status == "sent", OutboundItem.kind == "update")
    )
    if brand is not None:
        own = own.where(Post.brand == brand)
        sent = sent.where(Incident.brand == brand)
    if before is not None:
        own = own.where(Post.created_at <= before)
        sent = sent.where(OutboundItem.sent_at <= before)
    times = [t for t in (session.scalar(own), session.scalar(sent)) if t is not None]
    return max(times) if times else None


def own_posts(
    session: Session,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    """The brand's own public posts in a window, oldest first: the markers on the timeline."""
    stmt = select(
        Post.id, Post.platform, Post.external_id, Post.created_at, Post.text, Post.url, Post.brand
    ).where(Post.is_own == true())
    if brand is not None:
        stmt = stmt.where(Post.brand == brand)
    if start is not None:
        stmt = stmt.where(Post.created_at >= start)
    if end is not None:
        stmt = stmt.where(Post.created_at < end)
    return [dict(r._mapping) for r in session.execute(stmt.order_by(Post.created_at))]


def sent_updates(
    session: Session,
    *,
    brand: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    """Updates sent through Flarewatch in a window, shaped like `own_posts` rows, oldest first."""
    stmt = (
        select(
            OutboundItem.id,
            OutboundItem.destination.label("platform"),
            OutboundItem.remote_id.label("external_id"),
            OutboundItem.sent_at.label("created_at"),
            OutboundItem.text,
            OutboundItem.url,
            Incident.brand,
        )
        .outerjoin(Incident, Incident.id == OutboundItem.incident_id)
        .where(OutboundItem.status == "sent", OutboundItem.kind == "update")
    )
    if brand is not None:
        stmt = stmt.where(Incident.brand == brand)
    if start is not None:
        stmt = stmt.where(OutboundItem.sent_at >= start)
    if end is not None:
        stmt = stmt.where(OutboundItem.sent_at < end)
    return [dict(r._mapping) for r in session.execute(stmt.order_by(OutboundItem.sent_at))]
