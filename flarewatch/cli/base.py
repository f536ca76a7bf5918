"""The root command group, its shared context and the one-line handling of user errors."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import pandas as pd
from sqlalchemy import Engine

from flarewatch import api
from flarewatch.config import ConfigError, Settings, load_settings
from flarewatch.domain import NotFoundError

if TYPE_CHECKING:
    from flarewatch.models.transformer import SentimentModel

F = TypeVar("F", bound=Callable[..., Any])


# Not LookupError: a KeyError or IndexError is a bug and gets a traceback, not one quiet line.
USER_ERRORS = (ConfigError, ValueError, NotFoundError, FileNotFoundError)


def friendly_errors(func: F) -> F:
    """Turn expected errors into a one-line message and exit status 1, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


FORCE = click.option("--force", is_flag=True, help="Overwrite --out if it exists.")


def write_private(out: str, data: bytes, *, force: bool = False) -> None:
    """Write an export readable by its owner only (0600), never through a symbolic link.

    An existing file (or link) is replaced only with `force`; the new content lands whole or not
    at all (written beside it, then renamed over it).
    """
    path = Path(out)
    if (path.exists() or path.is_symlink()) and not force:
        raise ValueError(f"{out} exists: pass --force to overwrite it")
    if path.is_dir():
        raise ValueError(f"{out} is a folder: give a file name")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class Context:
    """Settings and a lazily created, migrated engine shared by every command."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = api.connect(self.settings.database_url)
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


def echo_frame(frame: pd.DataFrame, as_json: bool, empty: str) -> None:
    """Print a frame as JSON lines, or as a table (`empty` when it has no rows)."""
    if as_json:
        click.echo(frame.to_json(orient="records", lines=True, date_format="iso"))
    else:
        click.echo(frame.to_string(index=False) if len(frame) else empty)
