"""Fine-tune MiniLM with LoRA and a 3-class head across domains, then calibrate on dev."""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from flarewatch.domain import LABELS
from flarewatch.models import minilm
from flarewatch.models.calibrate import MAX_NEUTRAL_TO_NEGATIVE, Scored, calibrate, objective
from flarewatch.models.checkpoint import (
    BEST_FILE,
    RunState,
    load_checkpoint,
    load_weights,
    save_checkpoint,
    save_weights,
    trainable_state,
)
from flarewatch.models.corpora import (
    COMPLAINT,
    DOMAINS,
    NOT_COMPLAINT,
    Corpus,
    corpora_sha256,
    is_corpus_root,
    read_domain,
    subsample,
    training_mix,
)
from flarewatch.models.data import LabelledTexts, read_tweeteval, sha256_files
from flarewatch.models.text import preprocess_all

DEFAULT_TARGETS = ("query", "key", "value", "dense")
MIX_TOTAL = 28_000  # rows drawn from a corpus root when max_examples is 0


@dataclass
class TrainingArguments:
    """Everything that shapes a training run; recorded in the artifact's config.

    Args:
        data: A corpus root holding `tweeteval-sentiment/`, `goemotions/`, `sanders-twitter/`
            and `complaints-twitter/` (multi-domain), or one TweetEval sentiment directory.
        out: Where the artifact (and the resumable checkpoint) is written.
        seed: Seed for sampling, shuffling and initialisation.
        epochs: Passes over the training examples.
        max_examples: Training examples (a seeded sample); 0: all of TweetEval, or
            `MIX_TOTAL` rows of the multi-domain mix.
        rank: LoRA rank.
        alpha: LoRA scaling numerator (scale = alpha / rank).
        targets: Encoder modules that get LoRA adapters (name suffixes).
        lr: Peak learning rate (linear warm-up, then linear decay to zero).
        warmup: Fraction of steps spent warming up.
        batch_size: Training examples per step.
        weight_decay: AdamW weight decay.
        dropout: Dropout before the head (LoRA dropout too).
        balanced: Weight the loss by inverse class frequency to the power `class_power`.
        class_power: 1 = fully balanced (pushes neutral posts to negative), 0 = none.
        domain_power: Domain sampling share ∝ size**domain_power (0 equal, 1 natural).
        max_neutral_to_negative: Cap on each dev domain's neutral→negative share that the
            tuned decision keeps (None: macro recall alone).
        eval_every: Steps between dev evaluations for early stopping (0: never).
        eval_limit: Dev texts per domain in those evaluations.
        threads: torch CPU threads.
        checkpoint_every: Steps between resumable checkpoints.
        max_length: Token truncation length.
        init: Artifact directory or a run's weights file whose adapter and head start the run
            (continued training).
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
    class_power: float = 0.5
    domain_power: float = 0.5
    max_neutral_to_negative: float | None = MAX_NEUTRAL_TO_NEGATIVE
    eval_every: int = 100
    eval_limit: int = 250
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


def warm_start(model: minilm.MeanPoolClassifier, source: Path) -> None:
    """Copy LoRA and head weights into a freshly built model of the same shape, from an
    artifact directory or a training run's weights file (`checkpoint.safetensors`,
    `best.safetensors`).

    Raises:
        ValueError: The path is neither, or its weights do not fit the model's shape.
    """
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    if source.is_dir():
        set_peft_model_state_dict(model.encoder, load_file(str(source / minilm.ADAPTER_FILE)))
        model.head.load_state_dict(load_file(str(source / minilm.HEAD_FILE)))
        return
    if source.suffix != ".safetensors" or not source.is_file():
        raise ValueError(f"{source}: not an artifact directory nor a training run's .safetensors")
    state = {
        k.removeprefix("model."): v
        for k, v in load_file(str(source)).items()
        if not k.startswith(("optim.", "rng."))
    }
    expected = trainable_state(model)
    if set(state) != set(expected) or any(state[k].shape != expected[k].shape for k in state):
        raise ValueError(f"{source}: weights of another shape (LoRA rank or targets differ)")
    model.load_state_dict(state, strict=False)


def load_training_data(args: TrainingArguments) -> tuple[LabelledTexts, list[Corpus]]:
    """The (preprocessed) training rows and the dev corpora, for a corpus root or TweetEval.

    A corpus root (`is_corpus_root`) gives a domain-balanced mix of `max_examples` rows
    (`MIX_TOTAL` when 0) and the multi-domain dev set; a TweetEval folder gives its
    train split (sampled down to `max_examples` if set) and its val split.
    """
    if is_corpus_root(args.data):
        return _mixed_training_data(args)
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
    return train, [preprocessed(Corpus("tweeteval", "dev", val.texts, val.labels))]


def _mixed_training_data(args: TrainingArguments) -> tuple[LabelledTexts, list[Corpus]]:
    parts = [read_domain(args.data, d, "train") for d in DOMAINS]
    rows = training_mix(parts, args.max_examples or MIX_TOTAL, args.seed, args.domain_power)
    rows = rows[args.skip :]
    train = LabelledTexts(
        preprocess_all(r[0] for r in rows), [r[1] for r in rows], f"{args.data}:mix"
    )
    return train, [preprocessed(read_domain(args.data, d, "dev")) for d in DOMAINS]


def preprocessed(corpus: Corpus) -> Corpus:
    return replace(corpus, texts=preprocess_all(corpus.texts))


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


def class_weights(labels: list[int], power: float = 1.0) -> torch.Tensor:
    """Inverse-frequency weights to `power` over the 3-class labels; the average weighs 1."""
    counts = np.bincount([y for y in labels if y < len(LABELS)], minlength=len(LABELS))
    weights = (counts.sum() / (len(LABELS) * np.maximum(counts, 1))) ** power
    weights = weights / (weights * counts).sum() * counts.sum()
    return torch.tensor(weights, dtype=torch.float32)


def mixed_loss(logits: torch.Tensor, gold: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on sentiment labels plus the complaint set's auxiliary signal.

    A complaint (`COMPLAINT`) asks for a high negative probability: -log p(neg). A message
    that is not a complaint (`NOT_COMPLAINT`) is not read as neutral; it only asks for a low
    negative probability: -log(1 - p(neg)). Complaint rows weigh 1.
    """
    logp = torch.log_softmax(logits.float(), -1)
    sentiment = gold < len(LABELS)
    safe = torch.where(sentiment, gold, torch.zeros_like(gold))
    per_row = -logp.gather(1, safe[:, None])[:, 0] * weights[safe]
    per_row = torch.where(gold == COMPLAINT, -logp[:, 0], per_row)
    per_row = torch.where(gold == NOT_COMPLAINT, -torch.logsumexp(logp[:, 1:], -1), per_row)
    row_weight = torch.where(sentiment, weights[safe], torch.ones_like(per_row))
    return per_row.sum() / row_weight.sum()


def make_schedule(
    optimizer: torch.optim.Optimizer, total: int, warmup: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over `warmup` of the steps, then linear decay to zero."""
    warm = max(1, int(total * warmup))

    def factor(step: int) -> float:
        return step / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


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
    """Run a full training: fit, checkpoint, keep the best dev step, calibrate, save.

    Args:
        args: The run's settings.
        log: Where progress lines go.

    Returns:
        The artifact config that was written (metrics included).
    """
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train_set, dev = load_training_data(args)
    tokenizer = minilm.load_tokenizer()
    token_ids = tokenizer(train_set.texts, truncation=True, max_length=args.max_length)["input_ids"]
    model = build_model(args)
    batches = list(planned_batches([len(t) for t in token_ids], args))
    log(
        f"training on {len(train_set)} examples, {len(batches)} steps, "
        f"{sum(p.numel() for p in model.parameters() if p.requires_grad)} trainable parameters"
    )
    quick = [subsample(c, args.eval_limit, args.seed) for c in dev]
    probe = lambda: objective(score_dev(model, tokenizer, quick, args.max_length), np.zeros(3))  # noqa: E731
    state = fit(
        model, batches, token_ids, train_set.labels, tokenizer.pad_token_id, args, probe, log
    )
    if args.eval_every and (not state.history or state.history[-1][0] != state.step):
        _track_best(model, state, probe(), Path(args.out), log)  # the last step counts too
    if state.best_step and state.best_step != state.step:
        load_weights(Path(args.out) / BEST_FILE, model)
        log(f"kept the best dev step {state.best_step} (score {state.best_score:.4f})")
    return finish(model, tokenizer, dev, train_set, args, state, log)


def fit(
    model: minilm.MeanPoolClassifier,
    batches: list[list[int]],
    token_ids: list[list[int]],
    labels: list[int],
    pad_id: int,
    args: TrainingArguments,
    probe: Callable[[], float],
    log: Callable[[str], None],
) -> RunState:
    """Optimise the LoRA and head weights over `batches`, resuming from a checkpoint if present.

    Every `eval_every` steps `probe()` scores the dev sample; the best weights so far are
    kept in `best.safetensors` (early stopping without stopping: the schedule runs out).
    """
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    schedule = make_schedule(optimizer, len(batches), args.warmup)
    state = load_checkpoint(out, model, optimizer, schedule) or RunState()
    if state.step:
        log(f"resumed from step {state.step}")
    weights = class_weights(labels, args.class_power if args.balanced else 0.0)
    gold = torch.tensor(labels)
    model.train()
    started, running = time.monotonic() - state.seconds, 0.0
    for step in range(state.step, len(batches)):
        batch = batches[step]
        loss = mixed_loss(
            model(**collate([token_ids[i] for i in batch], pad_id)), gold[batch], weights
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running = 0.98 * running + 0.02 * float(loss.item()) if step else float(loss.item())
        state.step, state.seconds = step + 1, time.monotonic() - started
        if args.eval_every and state.step % args.eval_every == 0:
            _track_best(model, state, probe(), out, log)
            model.train()
        if state.step % args.checkpoint_every == 0 or state.step == len(batches):
            save_checkpoint(out, model, optimizer, schedule, state)
            log(progress_line(state, len(batches), running, float(schedule.get_last_lr()[0])))
    return state


def _track_best(
    model: nn.Module, state: RunState, score: float, out: Path, log: Callable[[str], None]
) -> None:
    state.history.append([state.step, round(score, 4)])
    if score > state.best_score:
        state.best_score, state.best_step = score, state.step
        save_weights(out / BEST_FILE, model, state.step)
    log(f"dev score at step {state.step}: {score:.4f} (best {state.best_score:.4f})")


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


def score_dev(model: nn.Module, tokenizer: Any, dev: list[Corpus], max_length: int) -> list[Scored]:
    """The network's logits on each (preprocessed) dev corpus."""
    return [
        Scored(c, predict_logits(model, tokenizer, c.texts, max_length=max_length)) for c in dev
    ]


def finish(
    model: minilm.MeanPoolClassifier,
    tokenizer: Any,
    dev: list[Corpus],
    train_set: LabelledTexts,
    args: TrainingArguments,
    state: RunState,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Tune logit biases and temperature on the whole dev set, report, write the artifact."""
    scored = score_dev(model, tokenizer, dev, args.max_length)
    calibration = calibrate(scored, args.max_neutral_to_negative)
    log(f"dev calibration: {json.dumps(calibration)}")
    config = artifact_config(args, train_set, calibration, state)
    minilm.save_artifact(model, args.out, config)
    log(f"artifact written to {args.out}")
    return config


def artifact_config(
    args: TrainingArguments,
    train_set: LabelledTexts,
    calibration: dict[str, Any],
    state: RunState,
) -> dict[str, Any]:
    """The artifact's `flarewatch.json`: how it was made, its decision rule, how well it did."""
    data = Path(args.data)
    digest = (
        corpora_sha256(data)
        if is_corpus_root(data)
        else sha256_files(data / "train_text.txt", data / "train_labels.txt")
    )
    return {
        **decision_config(args.max_length, calibration),
        "training": {
            **asdict(args),
            "data": data.name,
            "out": Path(args.out).name,
            "domains": list(DOMAINS) if is_corpus_root(data) else ["tweeteval"],
            "train_examples": len(train_set),
            "train_counts": np.bincount(train_set.labels, minlength=5).tolist(),
            "seconds": round(state.seconds, 1),
            "best_step": state.best_step,
            "dev_history": state.history,
            "data_sha256": digest,
        },
    }


def decision_config(max_length: int, calibration: dict[str, Any]) -> dict[str, Any]:
    """What every artifact's `flarewatch.json` says besides how it was made: the network's
    shape, the decision rule (`logit_bias`, `temperature`) and its dev metrics."""
    return {
        "format": "flarewatch-minilm-lora/1",
        "base_model": minilm.HUB_NAME,
        "base_sha256": minilm.BASE_SHA256,
        "hidden_size": 384,
        "labels": list(LABELS),
        "max_length": max_length,
        "pooling": "mean",
        "preprocessing": "flarewatch.models.text.preprocess",
        "temperature": calibration["temperature"],
        "logit_bias": calibration["logit_bias"],
        "dev": {
            "objective": calibration["objective"],
            "max_neutral_to_negative": calibration["max_neutral_to_negative"],
            "cap_kept": calibration["cap_kept"],
            "domains": calibration["domains"],
        },
    }
