"""Draft, approve and send outbound items: every step stored, one destination's failure its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from flarewatch.actions import Outbound, Published, Publisher, PublishError, deliver
from flarewatch.actions.base import idempotency_key
from flarewatch.actions.limits import MASTODON_DEFAULT_LIMIT, TooLongError, limit_for, split_thread
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

PublisherFactory = Callable[[str, str], Publisher]


@dataclass(frozen=True)
class Preview:
    """What one destination would get: its posts (a thread when long), or why it cannot."""

    destination: str
    account: str
    parts: list[str]
    measured: list[int]
    limit: int | None
    unit: str
    error: str | None = None


def preview(
    text: str,
    accounts: Mapping[str, str],
    *,
    mastodon_limit: int = MASTODON_DEFAULT_LIMIT,
    threads: bool = True,
) -> list[Preview]:
    """Each destination's posts for `text`, measured its own way; over-long text is an error."""
    found = []
    for destination, account in accounts.items():
        rule = limit_for(destination, mastodon_limit=mastodon_limit)
        try:
            parts = split_thread(text, rule) if threads else [text.strip()]
            if not threads:
                rule.check(parts[0])
            error = None
        except (TooLongError, ValueError) as exc:
            parts, error = [text.strip()], str(exc)
        measured = [rule.measure(p) for p in parts]
        found.append(Preview(destination, account, parts, measured, rule.limit, rule.unit, error))
    return found


@dataclass
class Draft:
    """A stored draft per destination that could take the text, and errors for those that could not."""

    items: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def draft(
    engine: Engine,
    text: str,
    accounts: Mapping[str, str],
    *,
    incident_id: int | None,
    drafted_by: str | None,
    kind: str = "update",
    mastodon_limit: int = MASTODON_DEFAULT_LIMIT,
    threads: bool = True,
) -> Draft:
    """Store one draft per destination; drafting the same text again returns the same drafts."""
    result = Draft()
    with session_scope(engine) as session:
        for shown in preview(text, accounts, mastodon_limit=mastodon_limit, threads=threads):
            if shown.error:
                result.errors[shown.destination] = shown.error
                continue
            key = idempotency_key(kind, incident_id, shown.destination, shown.account, text)
            row = queries.save_outbound(
                session,
                destination=shown.destination,
                account=shown.account,
                kind=kind,
                incident_id=incident_id,
                text=shown.parts[0],
                parts=shown.parts[1:],
                idempotency_key=key,
                drafted_by=drafted_by,
            )
            result.items.append(row)
    return result


def _remaining(row: Mapping[str, Any], reply_to: str | None) -> Outbound:
    """The part of a (thread) item still to send: after a partial send, from the next part on."""
    texts = [row["text"], *(row["parts"] or [])]
    done = list(row["remote_ids"] or [])
    rest = texts[len(done) :]
    return Outbound(
        destination=row["destination"],
        text=rest[0],
        parts=tuple(rest[1:]),
        account=row["account"],
        reply_to=done[-1] if done else (row["reply_to"] or reply_to),
        idempotency_key=f"{row['idempotency_key']}-{len(done)}",
        options=dict(row.get("options") or {}),
    )


def _reply_target(engine: Engine, row: Mapping[str, Any]) -> str | None:
    """A Statuspage update goes to the Statuspage incident this incident is linked to."""
    if row["destination"] != "statuspage" or row["incident_id"] is None:
        return None
    with session_scope(engine) as session:
        return queries.incident_link_of(session, row["incident_id"], "statuspage")


def send_item(
    engine: Engine,
    item_id: int,
    publisher: Publisher,
    *,
    require_approval: bool = False,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Send one stored item; returns its stored row after the attempt.

    An item left "sending" by an earlier attempt (a timeout: it may have gone out) is first
    looked for on the platform, so a retry never posts twice.
    """
    with session_scope(engine) as session:
        row = queries.outbound_item(session, item_id)
        if row["status"] == "sent":
            return row
        if require_approval and row["approved_by"] is None:
            raise PermissionError(f"outbound item {item_id} needs another user's approval first")
        retry = row["status"] == "sending"
        row = queries.set_outbound_status(session, item_id, "sending", attempt=True)
    item = _remaining({**row, "options": options}, _reply_target(engine, row))
    try:
        published = deliver(publisher, item, retry=retry)
    except PublishError as exc:
        return _record_failure(engine, item_id, row, exc)
    return _record_sent(engine, item_id, row, published)


def _record_sent(
    engine: Engine, item_id: int, row: Mapping[str, Any], published: Published
) -> dict[str, Any]:
    ids = [*(row["remote_ids"] or []), *published.remote_ids]
    with session_scope(engine) as session:
        if row["destination"] == "statuspage" and row["incident_id"] and published.remote_id:
            queries.link_incident(session, "statuspage", published.remote_id, row["incident_id"])
        return queries.set_outbound_status(
            session, item_id, "sent", remote_ids=ids, url=row["url"] or published.url
        )


def _record_failure(
    engine: Engine, item_id: int, row: Mapping[str, Any], exc: PublishError
) -> dict[str, Any]:
    done = [*(row["remote_ids"] or []), *(exc.published.remote_ids if exc.published else ())]
    url = row["url"] or (exc.published.url if exc.published else None)
    # Outcome unknown: stay "sending", so the next attempt checks the platform first.
    status = "sending" if exc.outcome_unknown else "failed"
    with session_scope(engine) as session:
        return queries.set_outbound_status(
            session, item_id, status, remote_ids=done or None, url=url, error=str(exc)
        )


def send_all(
    engine: Engine,
    item_ids: Sequence[int],
    publisher_for: PublisherFactory,
    *,
    require_approval: bool = False,
    options: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Send each item in turn; a destination that fails (or cannot start) never stops the others."""
    results = []
    for item_id in item_ids:
        with session_scope(engine) as session:
            row = queries.outbound_item(session, item_id)
        try:
            publisher = publisher_for(row["destination"], row["account"])
            results.append(
                send_item(
                    engine,
                    item_id,
                    publisher,
                    require_approval=require_approval,
                    options=options,
                )
            )
        except (PermissionError, ValueError) as exc:
            results.append({**row, "error": str(exc)})
        except PublishError as exc:  # the publisher could not even start (a rejected login)
            with session_scope(engine) as session:
                failed = queries.set_outbound_status(session, item_id, "failed", error=str(exc))
            results.append(failed)
    return results
