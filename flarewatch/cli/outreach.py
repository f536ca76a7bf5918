"""Outreach commands: export, list and update who support answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from flarewatch import api
from flarewatch.domain import OUTREACH_STATUSES
from flarewatch.render.export import outreach_csv

if TYPE_CHECKING:
    pass
from flarewatch.cli.base import FORCE, Context, cli, friendly_errors, pass_ctx, write_private


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
    """Export the ranked outreach list as a spreadsheet-safe CSV (a new file, 0600)."""
    table = api.outreach(ctx.engine, incident_id)
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
    if as_json:
        click.echo(table.to_json(orient="records", lines=True))
    else:
        click.echo(table.to_string(index=False) if len(table) else "nobody to answer")
