"""Outreach commands: export, list and update who support answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pandas as pd

from flarewatch import api
from flarewatch.cli.base import (
    FORCE,
    Context,
    cli,
    echo_frame,
    friendly_errors,
    pass_ctx,
    write_private,
)
from flarewatch.domain import OUTREACH_STATUSES
from flarewatch.render.export import outreach_csv


@cli.group()
def outreach() -> None:
    """The list of unhappy customers to answer."""


@outreach.command("export")
@click.option("--incident", "incident_id", type=int, required=True, help="Incident id.")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False), required=True, help="CSV file to write."
)
@FORCE
@pass_ctx
@friendly_errors
def outreach_export(ctx: Context, incident_id: int, out: str, force: bool) -> None:
    """Export the ranked outreach list, with reply, follow-up and ticket links (a new file, 0600)."""
    table = api.with_answers(ctx.engine, incident_id, api.outreach(ctx.engine, incident_id))
    write_private(out, outreach_csv(table), force=force)
    click.echo(f"wrote {len(table)} authors to {out}")


@outreach.command("set")
@click.option("--incident", "incident_id", type=int, required=True, help="Incident id.")
@click.option("--author", "author_id", type=int, required=True, help="Author id.")
@click.option("--status", type=click.Choice(OUTREACH_STATUSES), required=True)
@click.option("--assignee", default=None, help="Who is answering.")
@click.option("--note", default=None, help="Free-text note.")
@pass_ctx
@friendly_errors
def outreach_set(
    ctx: Context,
    incident_id: int,
    author_id: int,
    status: str,
    assignee: str | None,
    note: str | None,
) -> None:
    """Record support's status, assignee and note for one unhappy author."""
    api.set_outreach(
        ctx.engine, incident_id, author_id, status=status, assignee=assignee, note=note
    )
    click.echo(f"incident {incident_id}, author {author_id}: {status}")


@outreach.command("list")
@click.option("--incident", "incident_id", type=int, required=True, help="Incident id.")
@click.option("--status", type=click.Choice(OUTREACH_STATUSES), default=None, help="Only this.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@pass_ctx
@friendly_errors
def outreach_list(
    ctx: Context, incident_id: int, status: str | None, limit: int, as_json: bool
) -> None:
    """List unhappy authors by priority with reason and workflow status."""
    table = api.outreach(ctx.engine, incident_id)
    if status:
        table = table.loc[table["status"] == status]
    cols = ["author_id", "priority", "platform", "handle", "status", "assignee", "reason"]
    table = table[cols].head(limit)
    echo_frame(table, as_json, "nobody to answer")


def template_options(func: Any) -> Any:
    """Options shared by `reply` and `follow-up`: template, placeholders, sending, approval."""
    options = [
        click.option(
            "--template",
            default=None,
            help="Reply text with {handle}, {incident_title}, {status_url}, {next_update}.",
        ),
        click.option("--template-file", type=click.Path(exists=True, dir_okay=False), default=None),
        click.option("--status-url", default=None, help="{status_url} (default: status_page_url)."),
        click.option("--next-update", default=None, help="{next_update}, e.g. '14:00 UTC'."),
        click.option(
            "--send", is_flag=True, help="Really post (default: preview only, a dry run)."
        ),
        click.option("--sender", default=None, help="Who sends (recorded with each reply)."),
        click.option("--approved-by", default=None, help="Second person who approved the batch."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON lines."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _template(template: str | None, template_file: str | None) -> str | None:
    return Path(template_file).read_text(encoding="utf-8") if template_file else template


def _send_or_preview(
    ctx: Context, incident_id: int, drafts: list[Any], opts: dict[str, Any]
) -> None:
    if not opts["send"]:
        echo_frame(api.drafts_frame(drafts), opts["as_json"], "nothing to send")
        click.echo("dry run: nothing was sent (add --send to post these replies)", err=True)
        return
    settings = ctx.settings
    result = api.send_replies(
        ctx.engine,
        incident_id,
        drafts,
        api.repliers_for(settings, {d.platform for d in drafts}),
        sender=opts["sender"] or settings.user or "",
        approved_by=opts["approved_by"],
        require_approval=settings.require_approval,
        per_minute=settings.outreach_per_minute,
        spacing=settings.reply_spacing,
    )
    echo_frame(result, opts["as_json"], "nothing to send")
    counts = result["state"].value_counts().to_dict()
    click.echo(", ".join(f"{n} {state}" for state, n in sorted(counts.items())), err=True)


@outreach.command("reply")
@click.option("--incident", "incident_id", type=int, required=True, help="Incident id.")
@click.option(
    "--author", "author_ids", type=int, multiple=True, required=True, help="Author id (repeat)."
)
@template_options
@pass_ctx
@friendly_errors
def outreach_reply(
    ctx: Context, incident_id: int, author_ids: tuple[int, ...], **opts: Any
) -> None:
    """Preview (or --send) a public reply to each author's latest complaint."""
    drafts = api.draft_replies(
        ctx.engine,
        incident_id,
        list(author_ids),
        template=_template(opts["template"], opts["template_file"]),
        status_url=opts["status_url"] or ctx.settings.status_page_url,
        next_update=opts["next_update"],
    )
    _send_or_preview(ctx, incident_id, drafts, opts)


@outreach.command("follow-up")
@click.option(
    "--incident", "incident_id", type=int, required=True, help="A resolved incident's id."
)
@click.option("--author", "author_ids", type=int, multiple=True, help="Only these authors.")
@click.option("--include-uncontacted", is_flag=True, help="Also unhappy authors never answered.")
@template_options
@pass_ctx
@friendly_errors
def outreach_follow_up(
    ctx: Context,
    incident_id: int,
    author_ids: tuple[int, ...],
    include_uncontacted: bool,
    **opts: Any,
) -> None:
    """Preview (or --send) "it's fixed" follow-ups under our replies, once the incident is resolved."""
    drafts = api.draft_followups(
        ctx.engine,
        incident_id,
        list(author_ids) or None,
        include_uncontacted=include_uncontacted,
        template=_template(opts["template"], opts["template_file"]),
        status_url=opts["status_url"] or ctx.settings.status_page_url,
        next_update=opts["next_update"],
    )
    _send_or_preview(ctx, incident_id, drafts, opts)


@outreach.command("handoff")
@click.option("--incident", "incident_id", type=int, required=True, help="Incident id.")
@click.option(
    "--author", "author_ids", type=int, multiple=True, required=True, help="Author id (repeat)."
)
@click.option(
    "--to",
    "helpdesk",
    type=click.Choice(["zendesk", "webhook"]),
    default="zendesk",
    show_default=True,
)
@click.option(
    "--problem", is_flag=True, help="One problem ticket for all of them, not one per author."
)
@click.option("--send", is_flag=True, help="Really open the tickets (default: preview only).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@pass_ctx
@friendly_errors
def outreach_handoff(
    ctx: Context,
    incident_id: int,
    author_ids: tuple[int, ...],
    helpdesk: str,
    problem: bool,
    send: bool,
    as_json: bool,
) -> None:
    """Preview (or --send) helpdesk tickets for unhappy authors."""
    mode = "problem" if problem else "author"
    handoffs = api.draft_handoffs(ctx.engine, incident_id, list(author_ids), mode=mode)
    if not send:
        rows = [{"scope": h.scope, "priority": h.priority, "subject": h.subject} for h in handoffs]
        echo_frame(pd.DataFrame(rows), as_json, "nothing to hand off")
        click.echo("dry run: no ticket was opened (add --send)", err=True)
        return
    desk = api.helpdesk_for(ctx.settings, helpdesk)
    echo_frame(api.send_handoffs(ctx.engine, handoffs, desk), as_json, "nothing to hand off")


@outreach.command("tickets")
@click.option("--incident", "incident_id", type=int, required=True, help="Incident id.")
@click.option(
    "--poll", "poll", type=click.Choice(["zendesk"]), default=None, help="Read statuses back first."
)
@click.option("--note", default=None, help="Add this internal comment to every Zendesk ticket.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@pass_ctx
@friendly_errors
def outreach_tickets(
    ctx: Context, incident_id: int, poll: str | None, note: str | None, as_json: bool
) -> None:
    """List the incident's helpdesk tickets (optionally noting on them and polling them first)."""
    if note is not None:
        api.note_tickets(ctx.engine, incident_id, api.zendesk_for(ctx.settings), note)
    if poll:
        api.poll_tickets(ctx.engine, incident_id, api.helpdesk_for(ctx.settings, poll))
    echo_frame(api.outreach_tickets(ctx.engine, incident_id), as_json, "no tickets")


@outreach.command("replies")
@click.option("--incident", "incident_id", type=int, required=True, help="Incident id.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@pass_ctx
@friendly_errors
def outreach_replies(ctx: Context, incident_id: int, as_json: bool) -> None:
    """The audit trail: every reply and follow-up, who sent and approved it, and how it went."""
    table = api.outreach_replies(ctx.engine, incident_id)
    cols = [
        "author_id",
        "platform",
        "kind",
        "state",
        "url",
        "sender",
        "approved_by",
        "sent_at",
        "error",
    ]
    echo_frame(table[cols], as_json, "no replies yet")
