"""Spike commands: scan for spikes and early warnings, backtest the detector, list warnings."""

from __future__ import annotations

import json
from typing import Any

import click

from flarewatch import api
from flarewatch.cli.base import Context, cli, friendly_errors, pass_ctx
from flarewatch.domain import parse_time


@cli.group("spikes")
def spikes_group() -> None:
    """Spike detection, early warnings and alerts."""


@spikes_group.command("scan")
@click.option("--brand", "brands", multiple=True, help="Brand to scan (repeatable; default all).")
@click.option(
    "--bucket-minutes",
    type=click.IntRange(1, 24 * 60),
    default=None,
    help="Bucket size (default config).",
)
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
@click.option(
    "--at", "at", default=None, help="Scan as of this time (default: now), e.g. after a replay."
)
@pass_ctx
@friendly_errors
def spikes_scan(
    ctx: Context,
    brands: tuple[str, ...],
    bucket_minutes: int | None,
    with_themes: bool,
    alert: bool,
    at: str | None,
) -> None:
    """Judge the buckets completed since the last scan, store early warnings, alert once each."""
    embedder = api.default_embedder(ctx.settings.model) if with_themes else None
    options = api.ScanOptions(
        brands=brands,
        bucket_minutes=bucket_minutes or ctx.settings.bucket_minutes,
        embedder=embedder,
        alert=alert,
        base_url=ctx.settings.public_url,
        now=parse_time(at) if at else None,
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


@spikes_group.command("backtest")
@click.option("--brand", "brands", multiple=True, help="Brand to replay (repeatable; default all).")
@click.option("--from", "start", required=True, help="First bucket to judge (ISO time, UTC).")
@click.option("--to", "end", required=True, help="End of the replay (ISO time, UTC).")
@click.option(
    "--bucket-minutes",
    type=click.IntRange(1, 24 * 60),
    default=None,
    help="Bucket size (default config).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with `alerts`.")
@pass_ctx
@friendly_errors
def spikes_backtest(
    ctx: Context,
    brands: tuple[str, ...],
    start: str,
    end: str,
    bucket_minutes: int | None,
    as_json: bool,
) -> None:
    """Replay the online detector over stored history as it would have run live; print alerts."""
    names = list(brands) or api.brands(ctx.engine)
    minutes = bucket_minutes or ctx.settings.bucket_minutes
    first, last = parse_time(start), parse_time(end)
    alerts = [
        found
        for brand in names
        for found in api.backtest(
            ctx.engine, brand=brand, start=first, end=last, bucket_minutes=minutes
        )
    ]
    if as_json:
        click.echo(json.dumps({"bucket_minutes": minutes, "alerts": alerts}, indent=2))
        return
    click.echo("\n".join(_alert_line(a) for a in alerts) if alerts else "no alerts")


def _alert_line(alert: dict[str, Any]) -> str:
    return (
        f"{alert['alerted_at']}  {alert['brand']}: bucket {alert['bucket_start']}, "
        f"{alert['observed']} people posting negatively vs {alert['expected']} expected, "
        f"severity {alert['severity']}"
    )
