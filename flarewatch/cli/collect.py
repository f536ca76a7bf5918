"""Getting posts in and scored: file imports, one source at a time, the monitor loop, scoring."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    pass
from flarewatch import api
from flarewatch.cli.base import Context, cli, friendly_errors, pass_ctx
from flarewatch.collectors.replay import ReplayOptions, parse_mapping

MAX_SHIFT_HOURS = 24 * 366 * 100


@cli.group()
def collect() -> None:
    """Collect posts from a source into the database."""


@collect.command("replay")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--map",
    "mapping",
    default=None,
    help="Column mapping, e.g. text=body,created_at=ts,external_id=id,author=user.",
)
@click.option("--platform", default="replay", show_default=True, help="Platform of the posts.")
@click.option("--brand", default=None, help="Brand the posts are about (unless a column says).")
@click.option(
    "--shift-hours",
    type=click.FloatRange(-MAX_SHIFT_HOURS, MAX_SHIFT_HOURS),
    default=0.0,
    help="Shift every timestamp by this much (at most 100 years either way).",
)
@click.option("--unescape-html", is_flag=True, help="Decode &amp; and friends in texts.")
@pass_ctx
@friendly_errors
def collect_replay(
    ctx: Context,
    path: str,
    mapping: str | None,
    platform: str,
    brand: str | None,
    shift_hours: float,
    unescape_html: bool,
) -> None:
    """Import posts from a CSV or JSONL file (validated whole before anything is stored)."""

    opts = ReplayOptions(
        mapping=parse_mapping(mapping),
        platform=platform,
        brand=brand,
        shift=timedelta(hours=shift_hours),
        unescape_html=unescape_html,
    )
    result = api.import_file(ctx.engine, path, opts)
    notes = [f"{result.inserted} new"]
    if result.text_changed:
        notes.append(f"{result.text_changed} with changed text (scored again)")
    if result.duplicates:
        notes.append(f"{result.duplicates} duplicate ids in the file (the last copy kept)")
    click.echo(f"{path}: {result.received} posts read, {', '.join(notes)}")


@cli.command()
@click.option("--quantize", is_flag=True, help="Apply int8 dynamic quantisation.")
@click.option(
    "--worker",
    is_flag=True,
    help="Share the work with other `score --worker` processes through leased claims.",
)
@click.option("--worker-name", default=None, help="Name stored with claims (default host:pid).")
@click.option(
    "--lease-seconds",
    type=float,
    default=300.0,
    show_default=True,
    help="How long a claim lasts before a dead worker's posts are taken over.",
)
@pass_ctx
@friendly_errors
def score(
    ctx: Context, quantize: bool, worker: bool, worker_name: str | None, lease_seconds: float
) -> None:
    """Score every post the configured model has not scored yet."""
    import time

    from tqdm import tqdm

    scorer = ctx.scorer(quantize=quantize)
    options = (
        api.WorkerOptions(worker_name or api.default_worker_name(), lease_seconds=lease_seconds)
        if worker
        else None
    )
    started = time.perf_counter()
    with tqdm(total=api.count_pending(ctx.engine, scorer), unit="post", desc="scoring") as bar:
        done = api.score_pending(
            ctx.engine,
            scorer,
            batch_size=ctx.settings.batch_size,
            progress=bar.update,
            worker=options,
        )
    seconds = time.perf_counter() - started
    click.echo(
        f"scored {done} posts with {scorer.version} ({done / max(seconds, 1e-9):.1f} posts/s)"
    )


LIVE_SOURCES = {
    "x": "X recent search (tweepy)",
    "reddit": "Reddit search and new comments (praw)",
    "mastodon": "Mastodon hashtags and search (Mastodon.py)",
    "bluesky": "Bluesky searchPosts (atproto)",
    "hackernews": "Hacker News (Algolia)",
}


def _live_command(name: str, help_text: str) -> None:
    @collect.command(name, help=f"Collect once from {help_text}, as set up in the watch file.")
    @pass_ctx
    @friendly_errors
    def command(ctx: Context) -> None:

        result = api.collect_once(ctx.engine, ctx.settings.watch_file, name)
        click.echo(api.describe(result))
        if result.error:
            raise SystemExit(1)


for _name, _help in LIVE_SOURCES.items():
    _live_command(_name, _help)


@collect.command("health")
@pass_ctx
def collect_health(ctx: Context) -> None:
    """Print each source's health: last success and error, failures in a row, posts."""
    frame = api.source_health(ctx.engine)
    click.echo(frame.to_json(orient="records", indent=2, date_format="iso"))


@cli.command("run")
@click.option("--no-score", is_flag=True, help="Collect only; score later with `flarewatch score`.")
@click.option(
    "--scan/--no-scan",
    default=True,
    help="After scoring new posts, look for negative spikes as `spikes scan` does: early "
    "warnings on the dashboard and alerts where configured.",
)
@click.option(
    "--fast/--no-fast",
    default=True,
    help="Also judge 1-minute buckets with rolling 5-minute windows: strong surges alert "
    "within minutes (one alert per surge whichever width sees it first).",
)
@click.option(
    "--cycles", type=int, default=None, help="Stop after this many passes (default: never)."
)
@pass_ctx
@friendly_errors
def run_sources(ctx: Context, no_score: bool, scan: bool, fast: bool, cycles: int | None) -> None:
    """Collect from every source (streams listened to, others polled), scoring new posts.

    Runs until SIGTERM or Ctrl-C, which save what is in hand and every cursor first.
    """

    scorer = None if no_score else ctx.scorer()
    options = api.ScanOptions(
        bucket_minutes=ctx.settings.bucket_minutes,
        embedder=scorer,
        base_url=ctx.settings.public_url,
        fast=fast,
    )
    api.run(
        ctx.engine,
        ctx.settings.watch_file,
        scorer=scorer,
        scan=options if scan else None,
        batch_size=ctx.settings.batch_size,
        cycles=cycles,
        echo=click.echo,
    )
