"""Set-up and upkeep: config, database migrations, retention, the demo and the dashboard server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from flarewatch import api
from flarewatch.config import ConfigError, Settings, is_loopback, streamlit_secret
from flarewatch.domain import parse_time

if TYPE_CHECKING:
    pass
from flarewatch.cli.base import Context, cli, friendly_errors, pass_ctx

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


@cli.command("config")
@pass_ctx
def show_config(ctx: Context) -> None:
    """Print the resolved settings with secrets redacted."""
    click.echo(json.dumps(ctx.settings.redacted(), indent=2, default=str))


@cli.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@pass_ctx
@friendly_errors
def db_upgrade(ctx: Context) -> None:
    """Create or migrate the schema to the newest revision."""
    engine = api.connect(ctx.settings.database_url)
    click.echo(f"database at revision head: {engine.url.render_as_string(hide_password=True)}")


def _progress_bar(total: int, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="post", disable=total == 0)


@cli.command()
@click.option(
    "--serve/--no-serve", default=True, help="Serve the dashboard once the data is ready."
)
@pass_ctx
@friendly_errors
def demo(ctx: Context, serve: bool) -> None:
    """Load the demo incident (real airline tweets, time-shifted), score it and serve the dashboard."""

    scorer = ctx.scorer()
    with _progress_bar(len(api.demo_posts(datetime.now(UTC))), "scoring") as bar:
        summary = api.build_demo(
            ctx.engine, scorer, batch_size=ctx.settings.batch_size, progress=bar.update
        )
    click.echo(
        f"demo ready: {summary.posts} posts, {summary.scored} newly scored, "
        f"incident {summary.incident_id}, {summary.spikes} negative spike(s)"
    )
    if serve:
        _serve(ctx.settings)


def _check_exposure(settings: Settings, insecure: bool) -> None:
    """Refuse to serve beyond loopback without a password, unless the user insists."""
    if is_loopback(settings.dashboard_address):
        return
    if settings.secret("dashboard_password") or streamlit_secret("dashboard_password"):
        return
    if not insecure:
        raise ConfigError(
            f"dashboard address {settings.dashboard_address} is reachable by others: set "
            "FLAREWATCH_DASHBOARD_PASSWORD first (or pass --insecure to serve it open)"
        )
    click.echo(
        f"WARNING: serving on {settings.dashboard_address} with no password: "
        "anyone who can reach it sees every post and author",
        err=True,
    )


def _serve(settings: Settings, insecure: bool = False) -> None:
    _check_exposure(settings, insecure)
    app = Path(__file__).parent.parent / "dashboard" / "app.py"
    env = {**os.environ, "FLAREWATCH_DATABASE_URL": settings.database_url}
    click.echo(f"dashboard on http://{settings.dashboard_address}:{settings.dashboard_port}")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        settings.dashboard_address,
        "--server.port",
        str(settings.dashboard_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # The war room is for watching, not for Streamlit's deploy and developer menu.
        "--client.toolbarMode",
        "viewer",
    ]
    run_forwarding_signals(command, env)


def run_forwarding_signals(command: list[str], env: dict[str, str]) -> int:
    """Run `command`, passing SIGTERM/SIGINT/SIGHUP on to it, so it never outlives us."""
    child = subprocess.Popen(command, env=env)
    forward = lambda signum, _frame: child.send_signal(signum)  # noqa: E731
    previous = {s: signal.signal(s, forward) for s in FORWARDED_SIGNALS}
    try:
        return child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if child.poll() is None:
            child.terminate()
            child.wait(timeout=10)


@cli.command()
@click.option("--insecure", is_flag=True, help="Serve beyond loopback without a password.")
@pass_ctx
@friendly_errors
def dashboard(ctx: Context, insecure: bool) -> None:
    """Serve the Streamlit dashboard (127.0.0.1 unless configured otherwise)."""
    _serve(ctx.settings, insecure)


@cli.command()
@click.option(
    "--before",
    "before",
    required=True,
    help="Date or ISO time (UTC unless it says otherwise); older data is purged.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
@friendly_errors
def purge(ctx: Context, before: str, yes: bool) -> None:
    """Remove post text and author profile data older than --before; counts are kept."""

    cutoff = parse_time(before)
    if not yes:
        click.confirm(
            f"Purge post text and author data before {cutoff:%Y-%m-%d %H:%M} UTC?", abort=True
        )
    result = api.purge(ctx.engine, cutoff)
    click.echo(
        f"purged {result.posts} posts and {result.authors} authors "
        f"created before {cutoff.isoformat()}"
    )
