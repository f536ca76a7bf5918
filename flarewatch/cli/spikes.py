"""Spike commands: scan for spikes and early warnings, list warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from flarewatch import api

if TYPE_CHECKING:
    pass
from flarewatch.cli.base import Context, cli, friendly_errors, pass_ctx


@cli.group("spikes")
def spikes_group() -> None:
    """Spike detection, early warnings and alerts."""


@spikes_group.command("scan")
@click.option("--brand", "brands", multiple=True, help="Brand to scan (repeatable; default all).")
@click.option("--bucket-minutes", type=int, default=None, help="Bucket size (default config).")
@click.option(
    "--themes/--no-themes",
    "with_themes",
    default=True,
    help="Cluster each new spike's negative posts with the model's embeddings.",
)
@click.option(
    "--alert/--no-alert",
    default=True,
    help="Send new spikes to FLAREWATCH_SLACK_WEBHOOK_URL, FLAREWATCH_ALERT_WEBHOOK_URL "
    "and FLAREWATCH_SMTP_HOST/FLAREWATCH_ALERT_EMAIL_TO.",
)
@pass_ctx
@friendly_errors
def spikes_scan(
    ctx: Context,
    brands: tuple[str, ...],
    bucket_minutes: int | None,
    with_themes: bool,
    alert: bool,
) -> None:
    """Detect spikes over the last days, store early warnings and alert once per spike."""
    embedder = api.default_embedder(ctx.settings.model) if with_themes else None
    options = api.ScanOptions(
        brands=brands,
        bucket_minutes=bucket_minutes or ctx.settings.bucket_minutes,
        embedder=embedder,
        alert=alert,
        base_url=ctx.settings.public_url,
    )
    for outcome in api.scan_brands(ctx.engine, options, echo=click.echo):
        click.echo(f"alert for spike {outcome.pop('event_id')}: {outcome}")


@spikes_group.command("warnings")
@click.option("--brand", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@pass_ctx
@friendly_errors
def spikes_warnings(ctx: Context, brand: str | None, as_json: bool) -> None:
    """List open "possible incident" early warnings."""
    frame = api.early_warnings(ctx.engine, brand)
    if as_json:
        click.echo(frame.to_json(orient="records", lines=True, date_format="iso"))
        return
    cols = ["id", "brand", "kind", "started_at", "observed", "baseline", "severity"]
    click.echo(frame[cols].to_string(index=False) if len(frame) else "no early warnings")
