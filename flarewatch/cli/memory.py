"""Incident memory commands: post-mortems, roles, archive and delete, search, lead time, feedback."""

from __future__ import annotations

from pathlib import Path

import click

from flarewatch import api
from flarewatch.cli.base import Context, echo_frame, friendly_errors, pass_ctx
from flarewatch.cli.incident import incident
from flarewatch.cli.spikes import spikes_group
from flarewatch.domain import INCIDENT_KINDS, parse_time


@incident.group("postmortem")
def postmortem() -> None:
    """Write, show and export an incident's blameless post-mortem."""


@postmortem.command("set")
@click.argument("incident_id", type=int)
@click.option("--summary", default=None, help="What happened, in a few sentences.")
@click.option("--impact", default=None, help="Who was affected, how much and for how long.")
@click.option("--root-cause", default=None, help="Why it happened (systems, not people).")
@click.option("--fix", default=None, help="How it was fixed for good.")
@pass_ctx
@friendly_errors
def postmortem_set(ctx: Context, incident_id: int, **fields: str | None) -> None:
    """Write fields of a post-mortem; fields not given keep their text."""
    given = {k: v for k, v in fields.items() if v is not None}
    api.save_postmortem(ctx.engine, incident_id, **given)
    click.echo(f"saved post-mortem of incident {incident_id} ({', '.join(given) or 'created'})")


@postmortem.command("show")
@click.argument("incident_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="File (default stdout).")
@pass_ctx
@friendly_errors
def postmortem_show(ctx: Context, incident_id: int, out: str | None) -> None:
    """Print (or write) the post-mortem as Markdown for a wiki."""
    text = api.export_postmortem(ctx.engine, incident_id)
    if out is None:
        click.echo(text, nl=False)
        return
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}")


@postmortem.command("note")
@click.argument("incident_id", type=int)
@click.argument("text")
@click.option("--at", required=True, help="When it happened (ISO 8601).")
@pass_ctx
@friendly_errors
def postmortem_note(ctx: Context, incident_id: int, text: str, at: str) -> None:
    """Add an entry to the incident's timeline."""
    entry = api.add_timeline_entry(ctx.engine, incident_id, parse_time(at), text)
    click.echo(f"added timeline entry {entry} to incident {incident_id}")


@postmortem.command("action")
@click.argument("incident_id", type=int)
@click.argument("text")
@click.option("--owner", default=None, help="Who sees it through.")
@click.option("--due", default=None, help="Due date (ISO 8601).")
@pass_ctx
@friendly_errors
def postmortem_action(
    ctx: Context, incident_id: int, text: str, owner: str | None, due: str | None
) -> None:
    """Add a follow-up action with its owner and due date."""
    when = parse_time(due) if due else None
    action = api.add_follow_up(ctx.engine, incident_id, text, owner=owner, due=when)
    click.echo(f"added follow-up action {action} to incident {incident_id}")


@postmortem.command("done")
@click.argument("action_id", type=int)
@click.option("--undo", is_flag=True, help="Mark it not done again.")
@pass_ctx
@friendly_errors
def postmortem_done(ctx: Context, action_id: int, undo: bool) -> None:
    """Mark a follow-up action done."""
    api.set_follow_up_done(ctx.engine, action_id, not undo)
    click.echo(f"follow-up action {action_id}: {'open' if undo else 'done'}")


@incident.command("roles")
@click.argument("incident_id", type=int)
@click.option("--kind", type=click.Choice(INCIDENT_KINDS), default=None)
@click.option("--commander", default=None, help="Incident commander (empty to clear).")
@click.option("--comms-lead", default=None, help="Communications lead (empty to clear).")
@pass_ctx
@friendly_errors
def incident_roles(
    ctx: Context, incident_id: int, kind: str | None, commander: str | None, comms_lead: str | None
) -> None:
    """Set an incident's kind (its alerts' destinations) and its roles."""
    row = api.set_roles(
        ctx.engine, incident_id, kind=kind, commander=commander, comms_lead=comms_lead
    )
    click.echo(
        f"incident {row.id}: {row.kind}, commander {row.commander or '—'}, "
        f"comms lead {row.comms_lead or '—'}"
    )


@incident.command("archive")
@click.argument("incident_id", type=int)
@pass_ctx
@friendly_errors
def incident_archive(ctx: Context, incident_id: int) -> None:
    """Archive a resolved incident: kept with its post-mortem for the repository."""
    row = api.archive_incident(ctx.engine, incident_id)
    click.echo(f"archived incident {row.id}")


@incident.command("delete")
@click.argument("incident_id", type=int)
@click.option("--yes", is_flag=True, help="Confirm the deletion.")
@pass_ctx
@friendly_errors
def incident_delete(ctx: Context, incident_id: int, yes: bool) -> None:
    """Delete an incident (refused while it has a post-mortem: archive it instead)."""
    if not yes:
        raise click.UsageError("deleting cannot be undone: add --yes to confirm")
    api.delete_incident(ctx.engine, incident_id)
    click.echo(f"deleted incident {incident_id}")


@incident.command("search")
@click.argument("text")
@click.option("--brand", default=None, help="Only this brand's incidents.")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@pass_ctx
@friendly_errors
def incident_search(ctx: Context, text: str, brand: str | None, limit: int, as_json: bool) -> None:
    """Search past incidents' titles, post-mortems and complaint themes."""
    frame = api.search_incidents(ctx.engine, text, brand=brand, limit=limit)
    echo_frame(frame, as_json, "no incident matches")


@incident.command("fingerprint")
@click.argument("incident_id", type=int)
@pass_ctx
@friendly_errors
def incident_fingerprint(ctx: Context, incident_id: int) -> None:
    """Store what an incident's complaints were about, for "have we seen this before?"."""
    if not api.fingerprint_incident(ctx.engine, incident_id, ctx.scorer()):
        raise click.ClickException(f"incident {incident_id} has no negative posts to fingerprint")
    click.echo(f"fingerprinted incident {incident_id}")


@incident.command("leadtime")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@pass_ctx
@friendly_errors
def incident_leadtime(ctx: Context, as_json: bool) -> None:
    """Who noticed first: social signal, early warning, declared, first public update."""
    frame = api.lead_times(ctx.engine)
    echo_frame(frame, as_json, "no incidents")


@spikes_group.command("feedback")
@click.argument("event_id", type=int)
@click.argument("verdict", type=click.Choice(["useful", "noise", "clear"]))
@pass_ctx
@friendly_errors
def spikes_feedback(ctx: Context, event_id: int, verdict: str) -> None:
    """Mark a spike alert useful or noise (or clear the mark)."""
    api.set_alert_feedback(ctx.engine, event_id, None if verdict == "clear" else verdict)
    click.echo(f"spike {event_id}: {verdict}")


@spikes_group.command("precision")
@pass_ctx
@friendly_errors
def spikes_precision(ctx: Context) -> None:
    """Alert precision per brand and month, from the useful/noise marks."""
    frame = api.alert_precision(ctx.engine)
    click.echo(frame.to_string(index=False) if len(frame) else "no alert has been marked yet")
