"""Answering unhappy authors: reply and follow-up drafts, sending them, and who was won back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from flarewatch.actions.repliers import make_repliers
from flarewatch.actions.replies import (
    DEFAULT_TEMPLATES,
    RateLimiter,
    Replier,
    ReplyDraft,
    ReplyError,
    check_template,
    draft_error,
    parse_spacing,
    render_reply,
)
from flarewatch.analysis.recovery import answer_summary, first_answers, recovery_table
from flarewatch.api.outreach import outreach_authors
from flarewatch.config import Settings
from flarewatch.pipeline.frames import get_incident, incident_scope, resolve_model_version
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

# The default reply and follow-up texts, by kind, for forms to start from.
REPLY_TEMPLATES = DEFAULT_TEMPLATES
DRAFT_COLUMNS = ["author_id", "platform", "handle", "kind", "replied_url", "text", "error"]
SEND_COLUMNS = ["author_id", "platform", "handle", "kind", "state", "url", "error"]
STATUS_AFTER = {"reply": "contacted", "followup": "followed_up"}


def _values(
    engine: Engine, incident_id: int, status_url: str | None, next_update: str | None
) -> dict[str, str | None]:
    incident = get_incident(engine, incident_id)
    return {"incident_title": incident.title, "status_url": status_url, "next_update": next_update}


def _sent_posts(session: Any, incident_id: int) -> dict[tuple[str, str], dict[str, Any]]:
    replies = queries.incident_replies(session, incident_id)
    return {(r["platform"], r["replied_to"]): r for r in replies if r["state"] != "failed"}


def draft_replies(
    engine: Engine,
    incident_id: int,
    author_ids: Sequence[int],
    *,
    template: str | None = None,
    status_url: str | None = None,
    next_update: str | None = None,
    model_version: str | None = None,
) -> list[ReplyDraft]:
    """A reply to each author's latest complaint in the incident; rows that cannot go say why."""
    template = template or DEFAULT_TEMPLATES["reply"]
    check_template(template)
    values = _values(engine, incident_id, status_url, next_update)
    window = incident_scope(engine, incident_id, model_version).window()
    with session_scope(engine) as session:
        authors = queries.author_handles(session, author_ids)
        targets = queries.reply_targets(session, author_ids, **window)
        answered = _sent_posts(session, incident_id)
    return [
        _reply_draft(a, authors.get(a), targets.get(a), answered, template, values, "reply")
        for a in dict.fromkeys(author_ids)
    ]


def _reply_draft(
    author_id: int,
    author: Mapping[str, Any] | None,
    target: Mapping[str, Any] | None,
    answered: Mapping[tuple[str, str], Mapping[str, Any]],
    template: str,
    values: Mapping[str, str | None],
    kind: str,
) -> ReplyDraft:
    if author is None:
        return ReplyDraft(
            author_id, "?", None, kind, "", None, error=f"no author with id {author_id}"
        )
    handle, platform = author["handle"], author["platform"]
    text = render_reply(template, {**values, "handle": handle})
    draft = ReplyDraft(
        author_id, platform, handle, kind, text, None, error=draft_error(platform, text)
    )
    if target is None:
        return replace(draft, error="no negative post of this author in the incident's window")
    draft = replace(
        draft,
        replied_to=target["external_id"],
        replied_url=target["url"],
        replied_at=target["created_at"],
    )
    if target["removed"]:
        return replace(draft, error=f"latest complaint was deleted ({target['url']}); no reply")
    done = answered.get((platform, target["external_id"]))
    if done is not None:
        return replace(draft, error=f"already answered: {done['url'] or done['state']}")
    return draft


def draft_followups(
    engine: Engine,
    incident_id: int,
    author_ids: Sequence[int] | None = None,
    *,
    include_uncontacted: bool = False,
    template: str | None = None,
    status_url: str | None = None,
    next_update: str | None = None,
    model_version: str | None = None,
) -> list[ReplyDraft]:
    """ "It's fixed" follow-ups under our replies (and, optionally, to authors never answered)."""
    if get_incident(engine, incident_id).status not in ("resolved", "closed"):
        raise ValueError(f"incident {incident_id} is still open: follow-ups go out once resolved")
    template = template or DEFAULT_TEMPLATES["followup"]
    check_template(template)
    values = _values(engine, incident_id, status_url, next_update)
    with session_scope(engine) as session:
        replies = queries.incident_replies(session, incident_id)
        answered = _sent_posts(session, incident_id)
    wanted = set(author_ids) if author_ids is not None else None
    first = {
        a: r
        for a, r in first_answers(r for r in replies if r["kind"] == "reply").items()
        if wanted is None or a in wanted
    }
    with session_scope(engine) as session:
        handles = queries.author_handles(session, list(first))
    drafts = [
        _followup_draft(r, handles.get(a, {}).get("handle"), answered, template, values)
        for a, r in sorted(first.items())
    ]
    if include_uncontacted:
        table = outreach_authors(engine, incident_id, model_version=model_version)
        others = [int(a) for a in table.loc[table["status"] == "new", "author_id"]]
        others = [a for a in others if a not in first and (wanted is None or a in wanted)]
        drafts += draft_replies(
            engine,
            incident_id,
            others,
            template=template,
            status_url=status_url,
            next_update=next_update,
            model_version=model_version,
        )
        drafts = [replace(d, kind="followup") for d in drafts]
    return drafts


def _followup_draft(
    reply: Mapping[str, Any],
    handle: str | None,
    answered: Mapping[tuple[str, str], Mapping[str, Any]],
    template: str,
    values: Mapping[str, str | None],
) -> ReplyDraft:
    text = render_reply(template, {**values, "handle": handle})
    draft = ReplyDraft(
        int(reply["author_id"]),
        reply["platform"],
        handle,
        "followup",
        text,
        reply["remote_id"],
        reply["url"],
        reply["sent_at"],
        draft_error(reply["platform"], text),
    )
    done = answered.get((reply["platform"], reply["remote_id"]))
    return replace(draft, error=f"already followed up: {done['url']}") if done else draft


def drafts_frame(drafts: Sequence[ReplyDraft]) -> pd.DataFrame:
    """Drafts as a preview table (`DRAFT_COLUMNS`)."""
    frame = pd.DataFrame([asdict(d) for d in drafts], columns=list(ReplyDraft.__dataclass_fields__))
    return with_nones(frame[DRAFT_COLUMNS])


def with_nones(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values as None, not NaN: tables and CSVs would show (and save) "nan"."""
    frame = frame.astype(object)
    return frame.where(frame.notna(), None)


def check_approval(sender: str, approved_by: str | None, required: bool) -> None:
    """Raise ValueError unless a second person approved when approval is required."""
    if not sender.strip():
        raise ValueError("say who sends the replies (--sender)")
    if approved_by is not None and approved_by.strip() == sender.strip():
        raise ValueError(f"approval must come from someone other than the sender ({sender})")
    if required and not approved_by:
        raise ValueError("replies need a second person's approval here (--approved-by NAME)")


def send_replies(
    engine: Engine,
    incident_id: int,
    drafts: Sequence[ReplyDraft],
    repliers: Mapping[str, Replier | str],
    *,
    sender: str,
    approved_by: str | None = None,
    require_approval: bool = False,
    per_minute: int = 20,
    spacing: str | None = None,
    limiter: RateLimiter | None = None,
) -> pd.DataFrame:
    """Send drafts one by one; each row gets sent, failed (with its error) or skipped.

    A post already answered is never answered again; after a 401 or 429 the rest of that
    platform's batch is not tried. Sent replies move the author to `contacted`/`followed_up`.
    """
    check_approval(sender, approved_by, require_approval)
    limiter = limiter or RateLimiter(per_minute, parse_spacing(spacing))
    stopped: dict[str, str] = {}
    who = {"sender": sender, "approved_by": approved_by}
    rows = [_send_one(engine, incident_id, d, repliers, stopped, limiter, who) for d in drafts]
    return with_nones(pd.DataFrame(rows, columns=SEND_COLUMNS))


def _send_one(
    engine: Engine,
    incident_id: int,
    draft: ReplyDraft,
    repliers: Mapping[str, Replier | str],
    stopped: dict[str, str],
    limiter: RateLimiter,
    who: Mapping[str, str | None],
) -> dict[str, Any]:
    out = {k: getattr(draft, k) for k in ("author_id", "platform", "handle", "kind")}
    replier = repliers.get(draft.platform, f"replies on {draft.platform} are not set up")
    error = (
        draft.error
        or stopped.get(draft.platform)
        or (replier if isinstance(replier, str) else None)
    )
    if draft.replied_to is None:
        return {**out, "state": "failed", "url": None, "error": error}
    row = {
        "incident_id": incident_id,
        **{k: v for k, v in asdict(draft).items() if k not in ("handle", "error")},
        **who,
    }
    with session_scope(engine) as session:
        claimed = queries.claim_reply(session, row)
    if not claimed:
        return {**out, "state": "skipped", "url": None, "error": "already answered"}
    if error is None and not isinstance(replier, str):
        limiter.wait(draft.platform)
        try:
            sent = replier.reply(draft.replied_to, draft.text)
        except ReplyError as exc:
            error = str(exc)
            if exc.stop:
                stopped[draft.platform] = f"not sent: {exc}"
    with session_scope(engine) as session:
        if error is not None:
            queries.finish_reply(session, draft.platform, draft.replied_to, error=error)
            return {**out, "state": "failed", "url": None, "error": error}
        queries.finish_reply(
            session, draft.platform, draft.replied_to, remote_id=sent.remote_id, url=sent.url
        )
        queries.set_outreach_status(session, incident_id, draft.author_id, STATUS_AFTER[draft.kind])
    return {**out, "state": "sent", "url": sent.url, "error": None}


def repliers_for(
    settings: Settings, platforms: set[str], env: Mapping[str, str] | None = None
) -> dict[str, Replier | str]:
    """A replier per platform from the settings and credentials, or why there is none."""
    return make_repliers(
        platforms,
        env=env,
        mastodon_instance=settings.mastodon_reply_instance,
        mastodon_visibility=settings.mastodon_visibility,
        reddit_replies=settings.reddit_replies == "on",
    )


def outreach_replies(engine: Engine, incident_id: int) -> pd.DataFrame:
    """Every reply and follow-up of an incident: the audit trail."""
    get_incident(engine, incident_id)
    with session_scope(engine) as session:
        rows = queries.incident_replies(session, incident_id)
    return with_nones(pd.DataFrame(rows, columns=["id", *queries.REPLY_COLUMNS]))


def recovery(
    engine: Engine,
    incident_id: int,
    *,
    now: datetime | None = None,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Each answered author: recovered, still unhappy or silent since our first answer."""
    incident = get_incident(engine, incident_id)
    version = resolve_model_version(engine, model_version)
    with session_scope(engine) as session:
        replies = queries.incident_replies(session, incident_id)
        since = {a: r["sent_at"] for a, r in first_answers(replies).items()}
        posts = queries.posts_since(session, since, model_version=version, brand=incident.brand)
    return recovery_table(replies, posts, now or datetime.now(UTC))


def answers(
    engine: Engine,
    incident_id: int,
    *,
    now: datetime | None = None,
    model_version: str | None = None,
) -> dict[str, Any]:
    """Answered share of priority authors, median minutes to first answer, recovered share."""
    table = outreach_authors(engine, incident_id, now=now, model_version=model_version)
    with session_scope(engine) as session:
        replies = queries.incident_replies(session, incident_id)
    won = recovery(engine, incident_id, now=now, model_version=model_version)
    return answer_summary(table, replies, won)


ANSWER_COLUMNS = ["reply_url", "followup_url", "ticket_url", "recovery"]


def with_answers(
    engine: Engine, incident_id: int, table: pd.DataFrame, *, now: datetime | None = None
) -> pd.DataFrame:
    """An outreach table with each author's reply, follow-up and ticket links and recovery."""
    with session_scope(engine) as session:
        sent = [r for r in queries.incident_replies(session, incident_id) if r["state"] == "sent"]
        tickets = queries.incident_tickets(session, incident_id)
    links: dict[str, dict[int, Any]] = {"reply": {}, "followup": {}}
    for reply in sent:
        links[reply["kind"]].setdefault(int(reply["author_id"]), reply["url"])
    ticket_urls = {int(a): t["url"] for t in tickets for a in t["author_ids"] if t["url"]}
    won = recovery(engine, incident_id, now=now).set_index("author_id")["recovery"].to_dict()
    out = table.copy()
    ids = out["author_id"].astype(int)
    out["reply_url"] = ids.map(links["reply"])
    out["followup_url"] = ids.map(links["followup"])
    out["ticket_url"] = ids.map(ticket_urls)
    out["recovery"] = ids.map(won)
    for column in ANSWER_COLUMNS:
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out
