"""Public incident updates: preview, draft, approve, post (dry run unless --send) and list."""

from __future__ import annotations

import getpass
from typing import Any

import click

from flarewatch import api
from flarewatch.cli.base import Context, cli, friendly_errors, pass_ctx


@cli.group()
def update() -> None:
    """Compose and publish the brand's public updates for an incident."""


def _text_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--incident", "incident_id", type=int, required=True),
            click.option("--text", default=None, help="The update itself (else the template)."),
            click.option("--template", default=None, help="Template with {affected}, {doing}..."),
            click.option("--affected", default=None, help="What is affected."),
            click.option("--doing", default=None, help="What we are doing about it."),
            click.option("--next-update", default=None, help="When the next update comes."),
            click.option("--status-url", default=None, help="Link to the status page."),
            click.option("--to", "to", default=None, help="Destinations, comma-separated."),
        ]
    ):
        func = option(func)
    return func


def _compose(ctx: Context, incident_id: int, text: str | None, **fields: Any) -> str:
    template = fields.pop("template")
    return text or api.compose_update(ctx.engine, incident_id, fields, template)


def _accounts(ctx: Context, incident_id: int, to: str | None) -> dict[str, str]:
    brand = api.get_incident(ctx.engine, incident_id).brand
    accounts = api.own_accounts(ctx.settings.watch_file, brand)
    wanted = [d.strip() for d in to.split(",")] if to else list(accounts)
    missing = [d for d in wanted if d not in accounts]
    if missing:
        raise click.ClickException(f"no own {missing[0]} account for {brand} in the watch file")
    return {d: accounts[d] for d in wanted}


def _user(ctx: Context, user: str | None) -> str:
    return user or ctx.settings.user or getpass.getuser()


@update.command("preview")
@_text_options
@pass_ctx
@friendly_errors
def update_preview(
    ctx: Context, incident_id: int, text: str | None, to: str | None, **fields: Any
) -> None:
    """Show what each destination would get, measured its own way; nothing is stored."""
    body = _compose(ctx, incident_id, text, **fields)
    limit = ctx.settings.mastodon_max_characters
    for shown in api.preview_update(body, _accounts(ctx, incident_id, to), mastodon_limit=limit):
        click.echo(f"{shown.destination} ({shown.account}): {shown.error or 'ok'}")
        for part, size in zip(shown.parts, shown.measured, strict=True):
            click.echo(f"  [{size}/{shown.limit or '-'} {shown.unit}] {part}")


@update.command("draft")
@_text_options
@click.option("--user", default=None, help="Who drafts it (default: your login name).")
@pass_ctx
@friendly_errors
def update_draft(
    ctx: Context,
    incident_id: int,
    text: str | None,
    to: str | None,
    user: str | None,
    **fields: Any,
) -> None:
    """Store the update as a draft per destination (a thread where it is long)."""
    body = _compose(ctx, incident_id, text, **fields)
    result = api.draft_update(
        ctx.engine,
        incident_id,
        body,
        _accounts(ctx, incident_id, to),
        drafted_by=_user(ctx, user),
        mastodon_limit=ctx.settings.mastodon_max_characters,
    )
    for item in result.items:
        parts = 1 + len(item["parts"] or [])
        click.echo(f"draft {item['id']}: {item['destination']} ({parts} post(s)), {item['status']}")
    for destination, error in result.errors.items():
        click.echo(f"not drafted for {destination}: {error}", err=True)
    if result.errors:
        raise SystemExit(1)


@update.command("approve")
@click.argument("item_id", type=int)
@click.option("--user", default=None, help="Who approves (not the drafter).")
@pass_ctx
@friendly_errors
def update_approve(ctx: Context, item_id: int, user: str | None) -> None:
    """Approve another user's draft (the two-person rule)."""
    row = api.approve_update(ctx.engine, item_id, _user(ctx, user))
    click.echo(f"approved {row['id']} ({row['destination']}) as {row['approved_by']}")


@update.command("post")
@click.option("--incident", "incident_id", type=int, required=True)
@click.option("--send", is_flag=True, help="Really send (default: a dry run that sends nothing).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--status",
    "page_status",
    default=None,
    help="Statuspage status (investigating, identified...).",
)
@pass_ctx
@friendly_errors
def update_post(
    ctx: Context, incident_id: int, send: bool, yes: bool, page_status: str | None
) -> None:
    """Publish the incident's unsent drafts; without --send only shows what would go out."""
    pending = api.publish_update(ctx.engine, incident_id)
    if not pending:
        raise click.ClickException(f"incident {incident_id} has no unsent update; draft one first")
    for row in pending:
        click.echo(
            f"{'would send' if not send else 'sending'} {row['id']} to {row['destination']}: {row['text']}"
        )
    if not send or not (yes or click.confirm(f"Send {len(pending)} item(s) now?")):
        click.echo("dry run: nothing was sent (add --send to publish)")
        return
    rows = api.publish_update(
        ctx.engine,
        incident_id,
        send=True,
        require_approval=ctx.settings.require_approval,
        statuspage_status=page_status,
    )
    for row in rows:
        outcome = row["url"] if row["status"] == "sent" else f"{row['status']}: {row['error']}"
        click.echo(f"{row['id']} {row['destination']}: {outcome}")
    if any(r["status"] != "sent" for r in rows):
        raise SystemExit(1)


@update.command("list")
@click.option("--incident", "incident_id", type=int, required=True)
@pass_ctx
@friendly_errors
def update_list(ctx: Context, incident_id: int) -> None:
    """Every stored outbound update of an incident."""
    frame = api.outbound(ctx.engine, incident_id=incident_id, kind="update")
    columns = [
        "id",
        "destination",
        "status",
        "drafted_by",
        "approved_by",
        "sent_at",
        "url",
        "error",
    ]
    click.echo(frame[columns].to_string(index=False) if len(frame) else "no updates")
