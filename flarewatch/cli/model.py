"""Model commands: train and evaluate the sentiment model."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from flarewatch.cli.base import Context, cli, friendly_errors, pass_ctx
from flarewatch.models.calibrate import MAX_NEUTRAL_TO_NEGATIVE


@cli.group()
def model() -> None:
    """Train and evaluate sentiment models."""


def neutral_cap_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--max-neutral-to-negative`, shared by the commands that tune a decision rule."""
    return click.option(
        "--max-neutral-to-negative",
        type=click.FloatRange(0.0, 1.0),
        default=MAX_NEUTRAL_TO_NEGATIVE,
        show_default=True,
        help="Cap on each dev domain's share of neutral posts decided negative (1: no cap).",
    )(command)


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
    type=click.Path(exists=True),
    default=None,
    help="Start from this artifact's (or a run's .safetensors) adapter and head "
    "(same --rank/--targets).",
)
@click.option(
    "--skip",
    type=int,
    default=0,
    show_default=True,
    help="Skip the first N examples of the seeded shuffle (those --init saw).",
)
@click.option(
    "--domain-power",
    type=float,
    default=0.5,
    show_default=True,
    help="Multi-domain mix: each domain's share ∝ its size**power (0 equal, 1 natural).",
)
@neutral_cap_option
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
    domain_power: float,
    max_neutral_to_negative: float,
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
        domain_power=domain_power,
        max_neutral_to_negative=max_neutral_to_negative,
    )
    train(args, log=lambda line: click.echo(line, nl=True))


@model.command("soup")
@click.argument("ingredients", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--data",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="Corpus root whose dev splits tune the soup's biases and temperature.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Artifact directory.")
@click.option(
    "--rank", type=int, default=16, show_default=True, help="LoRA rank of every ingredient."
)
@neutral_cap_option
@friendly_errors
def model_soup(
    ingredients: tuple[str, ...], data: str, out: str, rank: int, max_neutral_to_negative: float
) -> None:
    """Average artifacts (or a run's best/checkpoint .safetensors) fine-tuned from one start."""
    from pathlib import Path

    from flarewatch.models.soup import make_soup

    make_soup(
        [Path(p) for p in ingredients],
        Path(data),
        Path(out),
        rank=rank,
        max_neutral_to_negative=max_neutral_to_negative,
        log=click.echo,
    )


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
