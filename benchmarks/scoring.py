"""Scoring speed: Flarewatch's batched scorer vs a naive one-post-at-a-time HF pipeline.

Usage: python benchmarks/scoring.py [--data DIR] [--posts 2000] [--threads 2] [--json]

Without --data the texts are the shipped demo tweets (real airline tweets, in file order).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch

from flarewatch.models import minilm
from flarewatch.models.data import read_tweeteval
from flarewatch.models.text import preprocess_all
from flarewatch.models.transformer import PRECISIONS, SentimentModel
from flarewatch.pipeline.demo import demo_posts

HIDDEN, FFN, LAYERS = 384, 1536, 6
CHUNK = 500  # posts per alternation; `flarewatch score` also works in chunks of 512


def _mean_pool_hf_class():
    from transformers import BertConfig, BertModel, BertPreTrainedModel
    from transformers.modeling_outputs import SequenceClassifierOutput

    class MeanPoolBertForSequenceClassification(BertPreTrainedModel):
        def __init__(self, source):
            config = BertConfig.from_pretrained(minilm.base_model_path())
            config.id2label = {0: "negative", 1: "neutral", 2: "positive"}
            config.label2id = {v: k for k, v in config.id2label.items()}
            super().__init__(config)
            self.bert = source.encoder if isinstance(source.encoder, BertModel) else source
            self.classifier = source.head

        def forward(self, input_ids=None, attention_mask=None, **kwargs):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return SequenceClassifierOutput(
                logits=self.classifier(minilm.mean_pool(hidden, attention_mask))
            )

    return MeanPoolBertForSequenceClassification


def naive_pipeline() -> Any:
    """`pipeline("text-classification")` on the default model, for one-post-at-a-time calls.

    The merged encoder plus our mean-pooling head is not a stock architecture, so it is
    wrapped in a small `BertPreTrainedModel` subclass the pipeline accepts.
    """
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    with minilm.quiet_transformers():
        source = minilm.load_classifier(minilm.DEFAULT_ARTIFACT)
        bias = minilm.read_config(minilm.DEFAULT_ARTIFACT).get("logit_bias")
        if bias is not None:  # the artifact's tuned decision rule, folded into the head
            with torch.no_grad():
                source.head.bias += torch.tensor(bias, dtype=source.head.bias.dtype)
        model = _mean_pool_hf_class()(source).eval()
        hf_logging.set_verbosity(hf_logging.CRITICAL)  # "not supported" notice: it works anyway
        return pipeline(
            "text-classification", model=model, tokenizer=minilm.load_tokenizer(), device="cpu"
        )


def timed_runs(
    model: SentimentModel, pipe: Any, texts: list[str], batch_size: int
) -> tuple[float, float, float]:
    """Alternate ours and naive chunk by chunk, so both see the same background load.

    Naive gets already preprocessed texts, so its time leaves out work ours includes.
    Returns (our posts/s, naive posts/s, label agreement).
    """
    ours = naive = 0.0
    agree = 0
    model.predict(texts[:batch_size], batch_size=batch_size)
    pipe(texts[0])
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        began = time.perf_counter()
        our_labels = [p.label for p in model.predict(chunk, batch_size=batch_size)]
        ours += time.perf_counter() - began
        items = preprocess_all(chunk)
        began = time.perf_counter()
        naive_labels = [pipe(text)[0]["label"] for text in items]
        naive += time.perf_counter() - began
        agree += sum(a == b for a, b in zip(our_labels, naive_labels, strict=True))
    return len(texts) / ours, len(texts) / naive, agree / len(texts)


def matmul_gflops(seconds: float = 2.0, dtype: torch.dtype = torch.float32) -> float:
    """Measured GFLOP/s of an encoder-shaped matmul (64 tokens × 384 → 1536) in `dtype`."""
    a, b = torch.randn(64 * 32, HIDDEN, dtype=dtype), torch.randn(HIDDEN, FFN, dtype=dtype)
    torch.mm(a, b)
    flops, started, runs = 2 * a.shape[0] * HIDDEN * FFN, time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        torch.mm(a, b)
        runs += 1
    return flops * runs / (time.perf_counter() - started) / 1e9


def flops_per_post(model: SentimentModel, texts: list[str]) -> float:
    """Encoder FLOPs per post at the real token counts (linear layers + attention)."""
    lengths = [
        len(ids)
        for ids in model.tokenizer(
            preprocess_all(texts), truncation=True, max_length=model.max_length
        )["input_ids"]
    ]
    per_token = LAYERS * (2 * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN))
    attention = sum(LAYERS * 4 * n * n * HIDDEN for n in lengths)
    return (per_token * sum(lengths) + attention) / len(lengths)


def demo_texts() -> list[str]:
    """The demo's real airline tweets (shipped with Flarewatch, so present in every install)."""
    return [post.text for post in demo_posts(datetime.now(UTC))]


def run(
    data: str | None,
    posts: int,
    threads: int,
    batch_size: int,
    quantize: bool = False,
    precision: str = "auto",
) -> dict[str, float | int | str]:
    """Measure both scorers on the same tweets and the FLOPs-bound ceiling."""
    texts = (read_tweeteval(data, "val").texts if data else demo_texts())[:posts]
    model = SentimentModel.from_pretrained(
        "default", num_threads=threads, quantize=quantize, precision=precision
    )
    ours, naive, agree = timed_runs(model, naive_pipeline(), texts, batch_size)
    # int8 has no matmul probe here: its bound is quoted against fp32's.
    gflops = matmul_gflops(dtype=torch.bfloat16 if model.precision == "bf16" else torch.float32)
    bound = gflops * 1e9 / flops_per_post(model, texts)
    return {
        "posts": len(texts),
        "threads": threads,
        "batch_size": batch_size,
        "model": model.version,
        "precision": model.precision,
        "flarewatch_posts_per_s": round(ours, 1),
        "naive_posts_per_s": round(naive, 1),
        "ratio": round(ours / naive, 2),
        "label_agreement": round(agree, 4),
        "matmul_gflops": round(gflops, 1),
        "flops_per_post_m": round(flops_per_post(model, texts) / 1e6, 1),
        "flops_bound_posts_per_s": round(bound, 1),
        "fraction_of_flops_bound": round(ours / bound, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=None,
        help="TweetEval sentiment directory (val split); default: demo tweets",
    )
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quantize", action="store_true", help="int8 for ours (naive stays fp32)")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="ours without --quantize; auto = bf16 where the CPU has it in hardware (naive: fp32)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(
        args.data, args.posts, args.threads, args.batch_size, args.quantize, args.precision
    )
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>26}: {value}")


if __name__ == "__main__":
    sys.exit(main())
