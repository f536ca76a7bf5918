"""Reviewer label commands: set, clear and export human labels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from flarewatch import api
from flarewatch.render.export import labels_csv

if TYPE_CHECKING:
    pass
from flarewatch.cli.base import FORCE, Context, cli, friendly_errors, pass_ctx, write_private
from flarewatch.domain import LABELS


@cli.group()
def label() -> None:
    """Human sentiment labels, stored apart from model scores."""


@label.command("set")
@click.argument("post_id", type=int)
@click.argument("value", metavar="LABEL", type=click.Choice(LABELS))
@click.option("--by", "labelled_by", default=None, help="Who labelled it.")
@click.option("--note", default=None, help="Why (free text).")
@pass_ctx
@friendly_errors
def label_set(
    ctx: Context, post_id: int, value: str, labelled_by: str | None, note: str | None
) -> None:
    """Set (or replace) the human label of post POST_ID."""
    api.set_label(ctx.engine, post_id, value, labelled_by=labelled_by, note=note)
    click.echo(f"post {post_id}: {value}")


@label.command("clear")
@click.argument("post_id", type=int)
@pass_ctx
@friendly_errors
def label_clear(ctx: Context, post_id: int) -> None:
    """Remove the human label of post POST_ID."""
    removed = api.clear_label(ctx.engine, post_id)
    click.echo(f"post {post_id}: {'label removed' if removed else 'had no label'}")


@label.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="-",
    show_default=True,
    help="CSV file (text,label,...), readable by `model evaluate --csv`.",
)
@FORCE
@pass_ctx
@friendly_errors
def label_export(ctx: Context, out: str, force: bool) -> None:
    """Export human labels with post texts as training/evaluation data."""
    frame = api.labels(ctx.engine)
    data = labels_csv(frame)
    if out == "-":
        click.echo(data.decode("utf-8"), nl=False)
        return
    write_private(out, data, force=force)
    click.echo(f"{len(frame)} labelled posts written to {out}")
