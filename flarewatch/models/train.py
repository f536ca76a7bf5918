"""Fine-tune MiniLM with LoRA and a 3-class head on TweetEval, then calibrate on val."""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from flarewatch.domain import LABELS
from flarewatch.models import minilm
from flarewatch.models.data import LabelledTexts, read_tweeteval, sha256_files
from flarewatch.models.metrics import classification_report, fit_temperature, softmax
from flarewatch.models.text import preprocess_all

CHECKPOINT_FILE = "checkpoint.pt"
DEFAULT_TARGETS = ("query", "key", "value", "dense")


@dataclass
class TrainingArguments:
    """Everything that shapes a training run; recorded in the artifact's config.

    Args:
        data: TweetEval sentiment directory (`train_*` and `val_*` files).
        out: Where the artifact (and the resumable checkpoint) is written.
        seed: Seed for sampling, shuffling and initialisation.
        epochs: Passes over the training examples.
        max_examples: Use at most this many training examples (a seeded sample); 0 means all.
        rank: LoRA rank.
        alpha: LoRA scaling numerator (scale = alpha / rank).
        targets: Encoder modules that get LoRA adapters (name suffixes).
        lr: Peak learning rate (linear warm-up, then linear decay to zero).
        warmup: Fraction of steps spent warming up.
        batch_size: Training examples per step.
        weight_decay: AdamW weight decay.
        dropout: Dropout before the head (LoRA dropout too).
        balanced: Weight the loss by inverse class frequency (helps macro recall).
        threads: torch CPU threads.
        checkpoint_every: Steps between resumable checkpoints.
        max_length: Token truncation length.
        init: Artifact directory whose adapter and head start the run (continued training).
        skip: Skip this many examples of the seeded shuffle first, e.g. those `init` saw.
    """

    data: str
    out: str
    seed: int = 13
    epochs: float = 1.0
    max_examples: int = 0
    rank: int = 16
    alpha: int = 32
    targets: tuple[str, ...] = DEFAULT_TARGETS
    lr: float = 1e-3
    warmup: float = 0.06
    batch_size: int = 32
    weight_decay: float = 0.01
    dropout: float = 0.1
    balanced: bool = True
    threads: int = 2
    checkpoint_every: int = 100
    max_length: int = minilm.MAX_LENGTH
    init: str | None = None
    skip: int = 0
    command: list[str] = field(default_factory=lambda: list(sys.argv))


def build_model(args: TrainingArguments) -> minilm.MeanPoolClassifier:
    """Wrap a fresh MiniLM in LoRA adapters and put an untrained head on top."""
    from peft import LoraConfig, get_peft_model

    encoder = minilm.load_encoder()
    lora = LoraConfig(
        r=args.rank,
        lora_alpha=args.alpha,
        lora_dropout=args.dropout,
        target_modules=list(args.targets),
        bias="none",
    )
    peft_encoder = get_peft_model(encoder, lora)
    model = minilm.MeanPoolClassifier(
        peft_encoder, encoder.config.hidden_size, len(LABELS), args.dropout
    )
    if args.init:
        warm_start(model, Path(args.init))
    return model


def warm_start(model: minilm.MeanPoolClassifier, artifact: Path) -> None:
    """Copy an artifact's LoRA and head weights into a freshly built model of the same shape."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(model.encoder, load_file(str(artifact / minilm.ADAPTER_FILE)))
    model.head.load_state_dict(load_file(str(artifact / minilm.HEAD_FILE)))


def load_training_data(args: TrainingArguments) -> tuple[LabelledTexts, LabelledTexts]:
    """Read train (sampled down to `max_examples` if set) and val, preprocessed."""
    train, val = read_tweeteval(args.data, "train"), read_tweeteval(args.data, "val")
    order = list(range(len(train)))
    random.Random(args.seed).shuffle(order)
    order = order[args.skip :]
    if args.max_examples:
        order = order[: args.max_examples]
    train = LabelledTexts(
        preprocess_all(train.texts[i] for i in order),
        [train.labels[i] for i in order],
        train.source,
    )
    return train, LabelledTexts(preprocess_all(val.texts), val.labels, val.source)


def length_bucketed_batches(lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """Shuffle, then sort within windows of 50 batches by length so padding stays small."""
    order = list(range(len(lengths)))
    rng = random.Random(seed)
    rng.shuffle(order)
    window = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lengths.__getitem__)
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(token_ids: list[list[int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch of token-id lists to its longest member."""
    width = max(len(ids) for ids in token_ids)
    input_ids = torch.full((len(token_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(token_ids), width), dtype=torch.long)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        mask[row, : len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": mask}


def class_weights(labels: list[int]) -> torch.Tensor:
    """Inverse-frequency weights, scaled so that the average example weighs 1."""
    counts = np.bincount(labels, minlength=len(LABELS)).astype(float)
    weights = len(labels) / (len(LABELS) * np.maximum(counts, 1))
    return torch.tensor(weights, dtype=torch.float32)


def make_schedule(
    optimizer: torch.optim.Optimizer, total: int, warmup: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over `warmup` of the steps, then linear decay to zero."""
    warm = max(1, int(total * warmup))

    def factor(step: int) -> float:
        return step / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


@dataclass
class RunState:
    """What a checkpoint restores: the step reached and the optimiser's state."""

    step: int = 0
    seconds: float = 0.0


def save_checkpoint(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, schedule: Any, state: RunState
) -> None:
    """Write trainable weights and optimiser state atomically, so a killed run can resume."""
    trainable = {
        k: v for k, v in model.state_dict().items() if "lora_" in k or k.startswith("head")
    }
    payload = {
        "model": trainable,
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "state": asdict(state),
    }
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_checkpoint(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, schedule: Any
) -> RunState:
    """Restore a checkpoint written by `save_checkpoint`; returns where the run stood."""
    payload = torch.load(path, weights_only=False)
    model.load_state_dict(payload["model"], strict=False)
    optimizer.load_state_dict(payload["optimizer"])
    schedule.load_state_dict(payload["schedule"])
    return RunState(**payload["state"])


def planned_batches(lengths: list[int], args: TrainingArguments) -> Iterator[list[int]]:
    """Yield every batch of the run, epoch by epoch (a fractional last epoch is cut short)."""
    per_epoch = math.ceil(len(lengths) / args.batch_size)
    total = int(per_epoch * args.epochs)
    epoch = 0
    while total > 0:
        batches = length_bucketed_batches(lengths, args.batch_size, args.seed + epoch)
        yield from batches[:total]
        total -= len(batches)
        epoch += 1


def train(args: TrainingArguments, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run a full training: fit, checkpoint, calibrate on val and save the artifact.

    Args:
        args: The run's settings.
        log: Where progress lines go.

    Returns:
        The artifact config that was written (metrics included).
    """
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train_set, val_set = load_training_data(args)
    tokenizer = minilm.load_tokenizer()
    token_ids = tokenizer(train_set.texts, truncation=True, max_length=args.max_length)["input_ids"]
    model = build_model(args)
    batches = list(planned_batches([len(t) for t in token_ids], args))
    log(
        f"training on {len(train_set)} examples, {len(batches)} steps, "
        f"{sum(p.numel() for p in model.parameters() if p.requires_grad)} trainable parameters"
    )
    seconds = fit(model, batches, token_ids, train_set.labels, tokenizer.pad_token_id, args, log)
    return finish(model, tokenizer, val_set, train_set, args, seconds, log)


def fit(
    model: minilm.MeanPoolClassifier,
    batches: list[list[int]],
    token_ids: list[list[int]],
    labels: list[int],
    pad_id: int,
    args: TrainingArguments,
    log: Callable[[str], None],
) -> float:
    """Optimise the LoRA and head weights over `batches`, resuming from a checkpoint if present."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    schedule = make_schedule(optimizer, len(batches), args.warmup)
    state = RunState()
    if (out / CHECKPOINT_FILE).exists():
        state = load_checkpoint(out / CHECKPOINT_FILE, model, optimizer, schedule)
        log(f"resumed from step {state.step}")
    loss_fn = nn.CrossEntropyLoss(weight=class_weights(labels) if args.balanced else None)
    gold = torch.tensor(labels)
    model.train()
    started, running = time.monotonic() - state.seconds, 0.0
    for step in range(state.step, len(batches)):
        batch = batches[step]
        loss = loss_fn(model(**collate([token_ids[i] for i in batch], pad_id)), gold[batch])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running = 0.98 * running + 0.02 * float(loss.item()) if step else float(loss.item())
        state = RunState(step + 1, time.monotonic() - started)
        if state.step % args.checkpoint_every == 0 or state.step == len(batches):
            save_checkpoint(out / CHECKPOINT_FILE, model, optimizer, schedule, state)
            log(progress_line(state, len(batches), running, float(schedule.get_last_lr()[0])))
    return state.seconds


def progress_line(state: RunState, total: int, loss: float, lr: float) -> str:
    """One log line: step, loss, learning rate, speed and time left."""
    rate = state.step / max(state.seconds, 1e-9)
    left = (total - state.step) / max(rate, 1e-9)
    return (
        f"step {state.step}/{total} loss {loss:.4f} lr {lr:.2e} "
        f"{rate:.2f} steps/s, {state.seconds:.0f}s elapsed, ~{left:.0f}s left"
    )


@torch.inference_mode()
def predict_logits(
    model: nn.Module,
    tokenizer: Any,
    texts: list[str],
    batch_size: int = 64,
    max_length: int = minilm.MAX_LENGTH,
) -> np.ndarray:
    """Score preprocessed texts in length-sorted batches; returns logits in input order."""
    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        enc = tokenizer(
            [texts[i] for i in idx],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )
        out[idx] = model(enc["input_ids"], enc["attention_mask"]).float().numpy()
    return out


def finish(
    model: minilm.MeanPoolClassifier,
    tokenizer: Any,
    val_set: LabelledTexts,
    train_set: LabelledTexts,
    args: TrainingArguments,
    seconds: float,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Calibrate on val, report metrics before/after and write the artifact."""
    logits = predict_logits(model, tokenizer, val_set.texts)
    temperature = fit_temperature(logits, val_set.labels)
    before = classification_report(val_set.labels, softmax(logits))
    after = classification_report(val_set.labels, softmax(logits, temperature))
    log(f"val before calibration: {json.dumps(before)}")
    log(f"val after calibration (T={temperature:.3f}): {json.dumps(after)}")
    config = artifact_config(args, train_set, temperature, before, after, seconds)
    minilm.save_artifact(model, args.out, config)
    log(f"artifact written to {args.out}")
    return config


def artifact_config(
    args: TrainingArguments,
    train_set: LabelledTexts,
    temperature: float,
    before: dict[str, Any],
    after: dict[str, Any],
    seconds: float,
) -> dict[str, Any]:
    """The artifact's `flarewatch.json`: how it was made and how well it did."""
    data = Path(args.data)
    return {
        "format": "flarewatch-minilm-lora/1",
        "base_model": minilm.HUB_NAME,
        "base_sha256": minilm.BASE_SHA256,
        "hidden_size": 384,
        "labels": list(LABELS),
        "max_length": args.max_length,
        "pooling": "mean",
        "preprocessing": "flarewatch.models.text.preprocess",
        "temperature": round(temperature, 4),
        "training": {
            **asdict(args),
            "data": data.name,
            "out": Path(args.out).name,
            "train_examples": len(train_set),
            "seconds": round(seconds, 1),
            "data_sha256": sha256_files(data / "train_text.txt", data / "train_labels.txt"),
        },
        "val": {"uncalibrated": before, "calibrated": after},
    }
