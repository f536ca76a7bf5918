"""Incident commands: open, close, list, import and listen for webhooks, report, posture."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from flarewatch import api
from flarewatch.config import ConfigError, is_loopback
from flarewatch.domain import SEVERITIES, parse_time

if TYPE_CHECKING:
    pass
from flarewatch.cli.base import (
    FORCE,
    Context,
    cli,
    echo_frame,
    friendly_errors,
    pass_ctx,
    write_private,
)
from flarewatch.webhooks.events import parse_event
from flarewatch.webhooks.listener import make_server


@cli.group()
def incident() -> None:
    """Open, close and list incidents."""


@incident.command("open")
@click.argument("title")
@click.option("--brand", default=None, help="Brand whose posts the incident is judged on.")
@click.option("--term", "terms", multiple=True, help="Brand term (repeatable).")
@click.option("--severity", type=click.Choice(SEVERITIES), default="SEV3", show_default=True)
@click.option("--at", "opened_at", default=None, help="When it opened (ISO 8601; default now).")
@pass_ctx
@friendly_errors
def incident_open(
    ctx: Context,
    title: str,
    brand: str | None,
    terms: tuple[str, ...],
    severity: str,
    opened_at: str | None,
) -> None:
    """Open an incident.

    Its posts, timeline, themes and outreach are judged on a window widened by 24 hours on each
    side: from a day before it opened to a day after it is resolved (until then, to now).
    """
    row = api.open_incident(
        ctx.engine,
        title,
        brand=brand,
        terms=terms,
        severity=severity,
        opened_at=parse_time(opened_at) if opened_at else None,
    )
    click.echo(f"opened incident {row.id}: {row.title} ({row.severity})")


@incident.command("resolve")
@click.argument("incident_id", type=int)
@click.option(
    "--at", "resolved_at", default=None, help="When it was resolved (ISO 8601; default now)."
)
@pass_ctx
@friendly_errors
def incident_resolve(ctx: Context, incident_id: int, resolved_at: str | None) -> None:
    """Mark an incident resolved: the service is restored (customers may still wait)."""
    row = api.close_incident(
        ctx.engine, incident_id, parse_time(resolved_at) if resolved_at else None
    )
    click.echo(f"resolved incident {row.id} at {row.resolved_at:%Y-%m-%d %H:%M} UTC")


@incident.command("close")
@click.argument("incident_id", type=int)
@click.option("--yes", is_flag=True, help="Close even with high-priority authors unanswered.")
@pass_ctx
@friendly_errors
def incident_close(ctx: Context, incident_id: int, yes: bool) -> None:
    """Close an incident: customers answered (asks first when high-priority ones are not)."""
    waiting = api.unanswered_authors(ctx.engine, incident_id)
    if len(waiting) and not yes:
        click.echo(f"{len(waiting)} high-priority unhappy author(s) still unanswered:")
        for row in waiting.head(20).itertuples():
            click.echo(f"  {row.platform} @{row.handle} (priority {row.priority:.0f})")
        if not click.confirm("Close anyway?"):
            raise click.ClickException("not closed: answer them first (flarewatch outreach set)")
    row = api.finish_incident(ctx.engine, incident_id, confirm=True)
    click.echo(f"closed incident {row.id}")


@incident.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@pass_ctx
@friendly_errors
def incident_list(ctx: Context, as_json: bool) -> None:
    """List incidents, newest first."""
    frame = api.incidents(ctx.engine)
    echo_frame(frame, as_json, "no incidents")


def _apply_payload(ctx: Context, payload: Any, brand: str | None) -> str:

    event = parse_event(payload)
    incident_id = api.apply_incident_event(ctx.engine, event, brand)
    return f"{event.source} {event.external_id}: {event.action} -> incident {incident_id}"


@incident.command("import")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
@click.option("--brand", default=None, help="Brand of incidents this file opens.")
@pass_ctx
@friendly_errors
def incident_import(ctx: Context, path: str, brand: str | None) -> None:
    """Apply a Statuspage or PagerDuty webhook payload (one JSON object, or a list of them)."""
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    for item in payload if isinstance(payload, list) else [payload]:
        click.echo(_apply_payload(ctx, item, brand))


WEBHOOK_SECRET_ENV = "FLAREWATCH_WEBHOOK_SECRET"


@incident.command("listen")
@click.option("--port", type=click.IntRange(0, 65535), default=8502, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--brand", default=None, help="Brand of incidents the webhooks open.")
@pass_ctx
@friendly_errors
def incident_listen(ctx: Context, port: int, host: str, brand: str | None) -> None:
    """Accept Statuspage and PagerDuty incident webhooks (POST JSON) until interrupted.

    With FLAREWATCH_WEBHOOK_SECRET set, only signed PagerDuty requests and URLs ending in the
    secret are accepted; binding beyond loopback requires it.
    """

    secret = ctx.settings.secret("webhook_secret")
    if secret is None and not is_loopback(host):
        raise ConfigError(f"--host {host} is reachable by others: set {WEBHOOK_SECRET_ENV} first")
    apply = lambda e: api.apply_incident_event(ctx.engine, e, brand)  # noqa: E731
    server = make_server(apply, port, host, secret=secret)
    guarded = " (signature or secret URL required)" if secret else ""
    click.echo(f"listening for incident webhooks on http://{host}:{server.server_port}/{guarded}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@incident.command("report")
@click.argument("incident_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="File (default stdout).")
@click.option("--bucket-minutes", type=click.IntRange(1, 24 * 60), default=60, show_default=True)
@click.option(
    "--hold-hours",
    type=click.FloatRange(0, 24 * 366),
    default=12.0,
    show_default=True,
    help="Calm hours after resolution before marketing may resume.",
)
@FORCE
@pass_ctx
@friendly_errors
def incident_report(
    ctx: Context,
    incident_id: int,
    fmt: str,
    out: str | None,
    bucket_minutes: int,
    hold_hours: float,
    force: bool,
) -> None:
    """Write the post-incident report: volume, peak, recovery, themes, outreach, posture."""
    text = api.report(
        ctx.engine,
        incident_id,
        fmt=fmt,
        bucket_minutes=bucket_minutes,
        hold_after=timedelta(hours=hold_hours),
    )
    if out is None:
        click.echo(text, nl=False)
        return
    write_private(out, text.encode("utf-8"), force=force)
    click.echo(f"wrote {out}")


@incident.command("posture")
@click.argument("incident_id", type=int)
@click.option("--hold-hours", type=click.FloatRange(0, 24 * 366), default=12.0, show_default=True)
@pass_ctx
@friendly_errors
def incident_posture(ctx: Context, incident_id: int, hold_hours: float) -> None:
    """Say whether marketing should still hold for an incident, and why."""
    posture = api.marketing_posture(ctx.engine, incident_id, hold_after=timedelta(hours=hold_hours))
    click.echo(("HOLD marketing: " if posture.hold else "marketing clear: ") + posture.reason)
