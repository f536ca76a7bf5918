"""Getting posts in and scored: file imports, one collector run, the monitor loop, scoring."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from flarewatch.collectors.replay import ReplayOptions, read_posts
from flarewatch.pipeline.ingest import RunResult, collect_once, describe, import_posts
from flarewatch.pipeline.monitor import ScanOptions, run, scan_brands
from flarewatch.pipeline.score import (
    WorkerOptions,
    count_pending,
    default_worker_name,
    score_pending,
)
from flarewatch.storage.queries import SaveResult

__all__ = [
    "ReplayOptions",
    "RunResult",
    "SaveResult",
    "ScanOptions",
    "WorkerOptions",
    "collect_once",
    "count_pending",
    "default_worker_name",
    "describe",
    "import_file",
    "run",
    "scan_brands",
    "score_pending",
]


def import_file(engine: Engine, path: str | Path, options: ReplayOptions) -> SaveResult:
    """Import posts from a CSV or JSONL file, validated whole before anything is stored."""
    return import_posts(engine, read_posts(Path(path), options))
