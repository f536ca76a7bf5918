"""Weight averaging ("model soup") of runs fine-tuned from one start, re-calibrated on the dev set."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from flarewatch.models import minilm
from flarewatch.models.calibrate import MAX_NEUTRAL_TO_NEGATIVE, calibrate
from flarewatch.models.checkpoint import trainable_state
from flarewatch.models.corpora import DOMAINS, is_corpus_root, read_domain
from flarewatch.models.train import (
    TrainingArguments,
    build_model,
    decision_config,
    preprocessed,
    score_dev,
    warm_start,
)


def ingredient_state(path: Path, template: minilm.MeanPoolClassifier) -> dict[str, torch.Tensor]:
    """The LoRA and head weights of an artifact directory or a training run's weights file.

    Raises:
        ValueError: The path is neither, or its weights do not fit the model's shape.
    """
    warm_start(template, path)
    return {k: v.clone() for k, v in trainable_state(template).items()}


def average(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The uniform mean of each tensor over the ingredients."""
    return {k: torch.stack([s[k].float() for s in states]).mean(0) for k in states[0]}


def make_soup(
    ingredients: Sequence[Path],
    data: Path,
    out: Path,
    *,
    rank: int = 16,
    max_neutral_to_negative: float | None = MAX_NEUTRAL_TO_NEGATIVE,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Average the ingredients' weights, tune biases and temperature on the dev set, save.

    Runs fine-tuned from the same start (e.g. an artifact and its continuation) lie in one
    basin: their mean is usually better than each, and costs nothing at inference.

    Returns:
        The artifact config that was written.
    """
    if len(ingredients) < 2:
        raise ValueError("a soup needs at least two ingredients")
    if not is_corpus_root(data):
        raise ValueError(f"{data}: not a corpus root (tweeteval-sentiment/, goemotions/, ...)")
    args = TrainingArguments(data=str(data), out=str(out), rank=rank, alpha=2 * rank)
    model = build_model(args)
    states = [ingredient_state(Path(p), model) for p in ingredients]
    model.load_state_dict(average(states), strict=False)
    model.eval()
    dev = [preprocessed(read_domain(data, d, "dev")) for d in DOMAINS]
    scored = score_dev(model, minilm.load_tokenizer(), dev, args.max_length)
    calibration = calibrate(scored, max_neutral_to_negative)
    log(f"dev calibration: {json.dumps(calibration)}")
    config = soup_config(ingredients, calibration, args)
    minilm.save_artifact(model, out, config)
    log(f"artifact written to {out}")
    return config


def soup_config(
    ingredients: Sequence[Path], calibration: dict[str, Any], args: TrainingArguments
) -> dict[str, Any]:
    """The soup's `flarewatch.json`: its ingredients, each with its run's training record."""
    records = []
    for path in map(Path, ingredients):
        config = (path if path.is_dir() else path.parent) / minilm.CONFIG_FILE
        own = json.loads(config.read_text()).get("training") if config.is_file() else None
        records.append({"path": path.name if path.is_dir() else f"{path.parent.name}/{path.name}",
                        "training": own})  # fmt: skip
    training = {"method": "uniform weight average", "ingredients": records, "rank": args.rank,
                "command": list(sys.argv)}  # fmt: skip
    return {**decision_config(args.max_length, calibration), "training": training}
