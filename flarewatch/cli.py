"""Command-line interface: thin commands over the Flarewatch library."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from sqlalchemy import Engine

from flarewatch import api
from flarewatch.analysis.export import outreach_csv
from flarewatch.collectors.replay import parse_time
from flarewatch.config import ConfigError, Settings, load_settings
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade
from flarewatch.storage.schema import OUTREACH_STATUSES, SEVERITIES

if TYPE_CHECKING:
    from flarewatch.models.transformer import SentimentModel

F = TypeVar("F", bound=Callable[..., Any])
USER_ERRORS = (ConfigError, ValueError, LookupError, FileNotFoundError)


def friendly_errors(func: F) -> F:
    """Turn expected errors into a one-line message and exit status 1, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


class Context:
    """Settings and a lazily created, migrated engine shared by every command."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
            upgrade(self._engine)
        return self._engine

    def scorer(self, *, quantize: bool = False) -> SentimentModel:
        """The configured model, trusted on the configured languages."""
        from flarewatch.models.language import parse_languages
        from flarewatch.models.transformer import load_scorer

        languages = parse_languages(self.settings.model_languages)
        return load_scorer(
            self.settings.model,
            quantize=quantize,
            languages=languages,
            precision=self.settings.model_precision,
        )


pass_ctx = click.make_pass_decorator(Context)


@click.group()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML config file (default: ./flarewatch.toml or $FLAREWATCH_CONFIG).",
)
@click.option("--database-url", default=None, help="SQLAlchemy URL (env FLAREWATCH_DATABASE_URL).")
@click.option("--model", default=None, help="`default` or any Hugging Face model name or path.")
@click.version_option(package_name="flarewatch")
@click.pass_context
@friendly_errors
def cli(
    ctx: click.Context, config_file: str | None, database_url: str | None, model: str | None
) -> None:
    """Flarewatch: social-media sentiment monitoring for IT incidents."""
    settings = load_settings(config_file, database_url=database_url, model=model)
    ctx.obj = Context(settings)


@cli.command("config")
@pass_ctx
def show_config(ctx: Context) -> None:
    """Print the resolved settings with secrets redacted."""
    click.echo(json.dumps(ctx.settings.redacted(), indent=2, default=str))


# --- db ---------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@pass_ctx
@friendly_errors
def db_upgrade(ctx: Context) -> None:
    """Create or migrate the schema to the newest revision."""
    engine = make_engine(ctx.settings.database_url)
    upgrade(engine)
    click.echo(f"database at revision head: {engine.url.render_as_string(hide_password=True)}")


# --- collect ----------------------------------------------------------------------------------


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
@click.option("--shift-hours", type=float, default=0.0, help="Shift every timestamp by this much.")
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
    from flarewatch.collectors.replay import ReplayOptions, parse_mapping, read_posts

    opts = ReplayOptions(
        mapping=parse_mapping(mapping),
        platform=platform,
        brand=brand,
        shift=timedelta(hours=shift_hours),
        unescape_html=unescape_html,
    )
    posts = read_posts(Path(path), opts)
    with session_scope(ctx.engine) as session:
        result = queries.save_posts(session, posts)
    click.echo(f"{path}: {result.received} posts read, {result.inserted} new")


# --- incidents --------------------------------------------------------------------------------


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
    """Open an incident."""
    with session_scope(ctx.engine) as session:
        row = queries.open_incident(
            session,
            title,
            brand=brand,
            brand_terms=terms,
            severity=severity,
            opened_at=parse_time(opened_at) if opened_at else None,
        )
        click.echo(f"opened incident {row.id}: {row.title} ({row.severity})")


@incident.command("close")
@click.argument("incident_id", type=int)
@click.option(
    "--at", "resolved_at", default=None, help="When it was resolved (ISO 8601; default now)."
)
@pass_ctx
@friendly_errors
def incident_close(ctx: Context, incident_id: int, resolved_at: str | None) -> None:
    """Mark an incident resolved."""
    with session_scope(ctx.engine) as session:
        row = queries.close_incident(
            session, incident_id, parse_time(resolved_at) if resolved_at else None
        )
        click.echo(f"resolved incident {row.id} at {row.resolved_at:%Y-%m-%d %H:%M} UTC")


@incident.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@pass_ctx
@friendly_errors
def incident_list(ctx: Context, as_json: bool) -> None:
    """List incidents, newest first."""
    frame = api.incidents(ctx.engine)
    if as_json:
        click.echo(frame.to_json(orient="records", lines=True, date_format="iso"))
    else:
        click.echo(frame.to_string(index=False) if len(frame) else "no incidents")


# --- outreach ---------------------------------------------------------------------------------


@cli.group()
def outreach() -> None:
    """The list of unhappy customers to answer."""


@outreach.command("export")
@click.option("--incident", "incident_id", type=int, required=True, help="Incident id.")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False), required=True, help="CSV file to write."
)
@pass_ctx
@friendly_errors
def outreach_export(ctx: Context, incident_id: int, out: str) -> None:
    """Export the ranked outreach list as a spreadsheet-safe CSV."""
    table = api.outreach(ctx.engine, incident_id)
    Path(out).write_bytes(outreach_csv(table))
    click.echo(f"wrote {len(table)} authors to {out}")


# --- demo and dashboard -----------------------------------------------------------------------


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
    from flarewatch.demo import build_demo, demo_posts

    scorer = ctx.scorer()
    with _progress_bar(len(demo_posts(datetime.now(UTC))), "scoring") as bar:
        summary = build_demo(
            ctx.engine, scorer, batch_size=ctx.settings.batch_size, progress=bar.update
        )
    click.echo(
        f"demo ready: {summary.posts} posts, {summary.scored} newly scored, "
        f"incident {summary.incident_id}, {summary.spikes} negative spike(s)"
    )
    if serve:
        _serve(ctx.settings)


def _serve(settings: Settings) -> None:
    import subprocess
    import sys

    app = Path(__file__).parent / "dashboard" / "app.py"
    env = {**os.environ, "FLAREWATCH_DATABASE_URL": settings.database_url}
    click.echo(f"dashboard on http://{settings.dashboard_address}:{settings.dashboard_port}")
    subprocess.run(
        [
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
        ],
        env=env,
        check=False,
    )


@cli.command()
@pass_ctx
def dashboard(ctx: Context) -> None:
    """Serve the Streamlit dashboard (127.0.0.1 unless configured otherwise)."""
    _serve(ctx.settings)


# --- model ------------------------------------------------------------------------------------


@cli.group()
def model() -> None:
    """Train and evaluate sentiment models."""


@model.command("train")
@click.option(
    "--data",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="Corpus root (tweeteval-sentiment/, goemotions/, ...: multi-domain) or a TweetEval folder.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Artifact directory; a checkpoint there is resumed.",
)
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--epochs", type=float, default=1.0, show_default=True)
@click.option("--max-examples", type=int, default=0, show_default=True, help="0 = all.")
@click.option("--rank", type=int, default=16, show_default=True, help="LoRA rank.")
@click.option(
    "--targets",
    default="query,key,value,dense",
    show_default=True,
    help="Comma-separated encoder modules that get LoRA adapters.",
)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--threads", type=int, default=2, show_default=True, help="torch CPU threads.")
@click.option(
    "--init",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Start from this artifact's adapter and head (same --rank/--targets).",
)
@click.option(
    "--skip",
    type=int,
    default=0,
    show_default=True,
    help="Skip the first N examples of the seeded shuffle (those --init saw).",
)
@friendly_errors
def model_train(
    data: str,
    out: str,
    seed: int,
    epochs: float,
    max_examples: int,
    rank: int,
    targets: str,
    lr: float,
    batch_size: int,
    threads: int,
    init: str | None,
    skip: int,
) -> None:
    """Fine-tune MiniLM with LoRA, calibrate on val and write a model artifact."""
    from flarewatch.models.train import TrainingArguments, train

    args = TrainingArguments(
        data=data,
        out=out,
        seed=seed,
        epochs=epochs,
        max_examples=max_examples,
        rank=rank,
        alpha=2 * rank,
        targets=tuple(targets.split(",")),
        lr=lr,
        batch_size=batch_size,
        threads=threads,
        init=init,
        skip=skip,
    )
    train(args, log=lambda line: click.echo(line, nl=True))


@model.command("evaluate")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="TweetEval-layout directory ({split}_text.txt, {split}_labels.txt).",
)
@click.option("--split", default="val", show_default=True, help="Split to read from --data.")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="CSV with negative/neutral/positive label words.",
)
@click.option("--text-col", default="text", show_default=True)
@click.option("--label-col", default="label", show_default=True)
@click.option(
    "--suite", type=click.Path(file_okay=False, exists=True), help="Corpus root: every set."
)
@click.option("--compare", multiple=True, help="With --suite: more models beside it (and VADER).")
@click.option(
    "--model", "model_name", default=None, help="Model to evaluate (default: the configured model)."
)
@click.option("--quantize", is_flag=True, help="Apply int8 dynamic quantisation.")
@click.option("--batch-size", type=int, default=None, help="Posts per batch.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
@friendly_errors
def model_evaluate(
    ctx: Context,
    data_dir: str | None,
    split: str,
    csv_file: str | None,
    text_col: str,
    label_col: str,
    suite: str | None,
    compare: tuple[str, ...],
    model_name: str | None,
    quantize: bool,
    batch_size: int | None,
    as_json: bool,
) -> None:
    """Measure accuracy, macro recall/F1, calibration (ECE) and speed on labelled posts."""
    from flarewatch.models.data import read_labelled_csv, read_tweeteval
    from flarewatch.models.evaluate import evaluate
    from flarewatch.models.suite import suite_report
    from flarewatch.models.transformer import load_scorer

    if suite:
        names = [model_name or ctx.settings.model, *compare]
        click.echo(suite_report(suite, names, quantize, ctx.settings.model_precision, as_json))
        return

    if (data_dir is None) == (csv_file is None):
        raise click.UsageError("give exactly one of --data DIR or --csv FILE")
    data = (
        read_tweeteval(data_dir, split)
        if data_dir
        else read_labelled_csv(str(csv_file), text_col, label_col)
    )
    scorer = load_scorer(
        model_name or ctx.settings.model,
        quantize=quantize,
        precision=ctx.settings.model_precision,
    )
    result = evaluate(scorer, data, batch_size or ctx.settings.batch_size)
    if as_json:
        click.echo(json.dumps(result))
        return
    keys = ("model", "precision", "data", "n", "accuracy", "macro_recall", "macro_f1", "ece")
    for key in (*keys, "posts_per_s"):
        click.echo(f"{key:>13}: {result[key]}")


# --- score ------------------------------------------------------------------------------------


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

    from flarewatch.pipeline import WorkerOptions, count_pending, default_worker_name, score_pending

    scorer = ctx.scorer(quantize=quantize)
    options = (
        WorkerOptions(worker_name or default_worker_name(), lease_seconds=lease_seconds)
        if worker
        else None
    )
    started = time.perf_counter()
    with tqdm(total=count_pending(ctx.engine, scorer), unit="post", desc="scoring") as bar:
        done = score_pending(
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


# --- live collectors and the runner -------------------------------------------------------------

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
        from flarewatch.collectors.runner import collect_once, describe

        result = collect_once(ctx.engine, ctx.settings.watch_file, name)
        click.echo(describe(result))
        if result.error:
            raise SystemExit(1)


for _name, _help in LIVE_SOURCES.items():
    _live_command(_name, _help)


@collect.command("health")
@pass_ctx
def collect_health(ctx: Context) -> None:
    """Print each source's health: last success and error, failures in a row, posts."""
    with session_scope(ctx.engine) as session:
        click.echo(json.dumps(queries.source_health(session), indent=2, default=str))


@cli.command("run")
@click.option("--no-score", is_flag=True, help="Collect only; score later with `flarewatch score`.")
@click.option(
    "--scan/--no-scan",
    default=True,
    help="After scoring new posts, look for negative spikes as `spikes scan` does: early "
    "warnings on the dashboard and alerts where configured.",
)
@click.option(
    "--cycles", type=int, default=None, help="Stop after this many passes (default: never)."
)
@pass_ctx
@friendly_errors
def run_sources(ctx: Context, no_score: bool, scan: bool, cycles: int | None) -> None:
    """Collect from every source in the watch file on its interval, scoring new posts."""
    from flarewatch.collectors.runner import run_watch
    from flarewatch.pipeline import score_pending

    after_save = None
    if not no_score:
        scorer = ctx.scorer()
        batch = ctx.settings.batch_size

        def after_save(_result: Any) -> None:
            score_pending(ctx.engine, scorer, batch_size=batch)
            if scan:
                _scan_spikes(ctx, (), None, embedder=scorer, alert=True)

    run_watch(
        ctx.engine, ctx.settings.watch_file, after_save=after_save, cycles=cycles, echo=click.echo
    )


# --- retention --------------------------------------------------------------------------------


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
    from flarewatch.retention import purge as purge_data

    cutoff = parse_time(before)
    if not yes:
        click.confirm(
            f"Purge post text and author data before {cutoff:%Y-%m-%d %H:%M} UTC?", abort=True
        )
    result = purge_data(ctx.engine, cutoff)
    click.echo(
        f"purged {result.posts} posts and {result.authors} authors "
        f"created before {cutoff.isoformat()}"
    )


# --- incident analytics: events, reports, posture, outreach workflow, spikes -------------------


def _apply_payload(ctx: Context, payload: Any, brand: str | None) -> str:
    from flarewatch.incidents.events import parse_event

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
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@incident.command("listen")
@click.option("--port", type=int, default=8502, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--brand", default=None, help="Brand of incidents the webhooks open.")
@pass_ctx
@friendly_errors
def incident_listen(ctx: Context, port: int, host: str, brand: str | None) -> None:
    """Accept Statuspage and PagerDuty incident webhooks (POST JSON) until interrupted.

    With FLAREWATCH_WEBHOOK_SECRET set, only signed PagerDuty requests and URLs ending in the
    secret are accepted; binding beyond loopback requires it.
    """
    from flarewatch.incidents.listener import make_server

    secret = os.environ.get(WEBHOOK_SECRET_ENV) or None
    if secret is None and host not in LOOPBACK_HOSTS:
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
@click.option("--bucket-minutes", type=int, default=60, show_default=True)
@click.option(
    "--hold-hours",
    type=float,
    default=12.0,
    show_default=True,
    help="Calm hours after resolution before marketing may resume.",
)
@pass_ctx
@friendly_errors
def incident_report(
    ctx: Context,
    incident_id: int,
    fmt: str,
    out: str | None,
    bucket_minutes: int,
    hold_hours: float,
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
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}")


@incident.command("posture")
@click.argument("incident_id", type=int)
@click.option("--hold-hours", type=float, default=12.0, show_default=True)
@pass_ctx
@friendly_errors
def incident_posture(ctx: Context, incident_id: int, hold_hours: float) -> None:
    """Say whether marketing should still hold for an incident, and why."""
    posture = api.marketing_posture(ctx.engine, incident_id, hold_after=timedelta(hours=hold_hours))
    click.echo(("HOLD marketing: " if posture.hold else "marketing clear: ") + posture.reason)


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
@click.option("--limit", type=int, default=50, show_default=True)
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
    _scan_spikes(ctx, brands, bucket_minutes, embedder=embedder, alert=alert)


def _scan_spikes(
    ctx: Context,
    brands: tuple[str, ...],
    bucket_minutes: int | None,
    *,
    embedder: api.Embedder | None,
    alert: bool,
) -> None:
    from flarewatch.alerts.channels import AlertSettings

    with session_scope(ctx.engine) as session:
        names = list(brands) or queries.brands(session)
    for brand in names:
        new = api.scan_spikes(
            ctx.engine,
            brand=brand,
            embedder=embedder,
            bucket_minutes=bucket_minutes or ctx.settings.bucket_minutes,
        )
        for row in new.itertuples():
            label = "possible incident" if row.early_warning else "spike"
            click.echo(
                f"{brand}: {label} since {row.started_at:%Y-%m-%d %H:%M} UTC, "
                f"{row.observed} vs {row.baseline:.1f}, severity {row.severity:.0f}"
            )
    settings = AlertSettings.from_env()
    if alert and settings.any:
        for outcome in api.send_spike_alerts(
            ctx.engine, settings, base_url=ctx.settings.public_url
        ):
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


# --- human labels -----------------------------------------------------------------------------


@cli.group()
def label() -> None:
    """Human sentiment labels, stored apart from model scores."""


@label.command("set")
@click.argument("post_id", type=int)
@click.argument("value", metavar="LABEL", type=click.Choice(["negative", "neutral", "positive"]))
@click.option("--by", "labelled_by", default=None, help="Who labelled it.")
@click.option("--note", default=None, help="Why (free text).")
@pass_ctx
@friendly_errors
def label_set(
    ctx: Context, post_id: int, value: str, labelled_by: str | None, note: str | None
) -> None:
    """Set (or replace) the human label of post POST_ID."""
    with session_scope(ctx.engine) as session:
        queries.set_label_override(session, post_id, value, labelled_by=labelled_by, note=note)
    click.echo(f"post {post_id}: {value}")


@label.command("clear")
@click.argument("post_id", type=int)
@pass_ctx
@friendly_errors
def label_clear(ctx: Context, post_id: int) -> None:
    """Remove the human label of post POST_ID."""
    with session_scope(ctx.engine) as session:
        removed = queries.clear_label_override(session, post_id)
    click.echo(f"post {post_id}: {'label removed' if removed else 'had no label'}")


@label.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="-",
    show_default=True,
    help="CSV file (text,label,...), readable by `model evaluate --csv`.",
)
@pass_ctx
@friendly_errors
def label_export(ctx: Context, out: str) -> None:
    """Export human labels with post texts as training/evaluation data."""
    import csv
    import io

    with session_scope(ctx.engine) as session:
        rows = queries.label_overrides(session)
    buffer = io.StringIO()
    fields = ["post_id", "text", "label", "labelled_by", "labelled_at"]
    writer = csv.DictWriter(buffer, fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if out == "-":
        click.echo(buffer.getvalue(), nl=False)
        return
    Path(out).write_text(buffer.getvalue(), encoding="utf-8")
    click.echo(f"{len(rows)} labelled posts written to {out}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="flarewatch")
