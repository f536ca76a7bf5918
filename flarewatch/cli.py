"""Command-line interface: thin commands over the Flarewatch library."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from flarewatch.config import ConfigError, Settings, load_settings
from flarewatch.storage import queries
from flarewatch.storage.engine import make_engine, session_scope, upgrade

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


pass_ctx = click.make_pass_decorator(Context)


@click.group()
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="TOML config file (default: ./flarewatch.toml or $FLAREWATCH_CONFIG).")
@click.option("--database-url", default=None, help="SQLAlchemy URL (env FLAREWATCH_DATABASE_URL).")
@click.option("--model", default=None, help="`default` or any Hugging Face model name or path.")
@click.version_option(package_name="flarewatch")
@click.pass_context
@friendly_errors
def cli(ctx: click.Context, config_file: str | None, database_url: str | None, model: str | None) -> None:
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
@click.option("--map", "mapping", default=None,
              help="Column mapping, e.g. text=body,created_at=ts,external_id=id,author=user.")
@click.option("--platform", default="replay", show_default=True, help="Platform of the posts.")
@click.option("--brand", default=None, help="Brand the posts are about (unless a column says).")
@click.option("--shift-hours", type=float, default=0.0, help="Shift every timestamp by this much.")
@click.option("--unescape-html", is_flag=True, help="Decode &amp; and friends in texts.")
@pass_ctx
@friendly_errors
def collect_replay(ctx: Context, path: str, mapping: str | None, platform: str, brand: str | None,
                   shift_hours: float, unescape_html: bool) -> None:
    """Import posts from a CSV or JSONL file (validated whole before anything is stored)."""
    from flarewatch.collectors.replay import ReplayOptions, parse_mapping, read_posts

    opts = ReplayOptions(mapping=parse_mapping(mapping), platform=platform, brand=brand,
                         shift=timedelta(hours=shift_hours), unescape_html=unescape_html)
    posts = read_posts(Path(path), opts)
    with session_scope(ctx.engine) as session:
        result = queries.save_posts(session, posts)
    click.echo(f"{path}: {result.received} posts read, {result.inserted} new")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="flarewatch")
