"""One process for every source: polling and streams side by side, scoring and scanning as posts land."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from flarewatch.collectors.watch import STREAM_SOURCES, Watch, credentials, load_watch, scrub
from flarewatch.config import ConfigError
from flarewatch.models.base import SentimentScorer
from flarewatch.pipeline.ingest import Scheduler, _collectors
from flarewatch.pipeline.live import Listener, make_listener
from flarewatch.pipeline.monitor import ScanOptions, scan_brands
from flarewatch.pipeline.score import (
    WorkerOptions,
    default_worker_name,
    score_pending,
    wait_for_scores,
)
from flarewatch.storage import queries
from flarewatch.storage.engine import session_scope

log = logging.getLogger(__name__)

# Buckets are judged once, when complete: scan once a minute, this long after the minute
# turns (streams store within seconds), and once the minute's stored posts are scored, or
# SCORE_WAIT_SECONDS have passed (a backlog must not stop the scan).
SCAN_DELAY_SECONDS = 5.0
SCORE_WAIT_SECONDS = 30.0
# Planner statistics, the silent-source check and the ticket poll run this often (each does less when not due).
UPKEEP_SECONDS = 60.0
# Chunks a scoring pass takes before the loop scans: new posts never starve the scan.
CHUNKS_PER_PASS = 4


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on SIGTERM and SIGINT (main thread only; elsewhere the caller stops us)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = (signal.SIGTERM, signal.SIGINT)
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in wanted}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@dataclass
class Supervisor:
    """Runs the polling scheduler, each stream and the scoring loop in threads until stopped."""

    engine: Engine
    watch: Watch
    scorer: SentimentScorer | None = None
    scan: ScanOptions | None = None
    batch_size: int = 64
    env: Mapping[str, str] = field(default_factory=dict)
    echo: Callable[[str], Any] = print
    stop: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)
    streams: list[Listener] = field(default_factory=list)
    upkeep: Callable[[], Any] | None = None

    def run(self) -> None:
        """Start every part and wait; a signal or `stop` ends them, each saving what it holds."""
        threads = [*self._polling(), *self._streams()]
        if not threads:
            raise ConfigError("no source in the watch file could start")
        if self.scorer is not None:
            threads.append(threading.Thread(target=self._score_loop, name="score"))
            if self.scan is not None:
                threads.append(threading.Thread(target=self._scan_loop, name="scan"))
        with stop_on_signals(self.stop):
            for thread in threads:
                thread.start()
            last_upkeep = 0.0
            while not self.stop.is_set() and any(t.is_alive() for t in threads):
                if self.upkeep is not None and time.monotonic() - last_upkeep >= UPKEEP_SECONDS:
                    last_upkeep = time.monotonic()
                    self._upkeep()
                self.stop.wait(0.5)
            self.stop.set()
            self.wake.set()
            for thread in threads:
                thread.join()
        self.echo("stopped: cursors saved")

    def _upkeep(self) -> None:
        assert self.upkeep is not None
        try:
            self.upkeep()
        except Exception:
            log.exception(
                "upkeep (statistics, silence check, ticket poll) failed; retrying next minute"
            )

    def _polling(self) -> list[threading.Thread]:
        names = [n for n in self.watch.sources if n not in STREAM_SOURCES]
        if not names:
            return []
        polled = Watch(self.watch.brands, {n: self.watch.sources[n] for n in names})
        collectors = _collectors(self.engine, polled, self.env, self.echo)
        if not collectors:
            return []
        scheduler = Scheduler(
            self.engine, polled, collectors, self.env, echo=self.echo, stop=self.stop,
            after_save=lambda _result: self.wake.set(),
        )  # fmt: skip
        return [threading.Thread(target=self._guard(scheduler.run), name="poll")]

    def _streams(self) -> list[threading.Thread]:
        threads = []
        for name in (n for n in self.watch.sources if n in STREAM_SOURCES):
            try:
                ingest = make_listener(
                    self.engine, self.watch, name, on_saved=lambda _n: self.wake.set(), env=self.env
                )
            except ConfigError as exc:  # e.g. a missing token: the other sources still run
                message = scrub(str(exc), self.env)
                self.echo(f"{name}: skipped: {message}")
                with session_scope(self.engine) as session:
                    queries.record_source_failure(session, name, message)
                continue
            self.streams.append(ingest)
            threads.append(threading.Thread(target=self._guard(self._runner(ingest)), name=name))
        return threads

    def _runner(self, ingest: Listener) -> Callable[[], None]:
        return lambda: asyncio.run(self._listen(ingest))

    async def _listen(self, ingest: Listener) -> None:
        stop = asyncio.Event()

        async def relay() -> None:
            while not self.stop.is_set():
                await asyncio.sleep(0.2)
            stop.set()

        relaying = asyncio.create_task(relay())
        try:
            await ingest.run(stop)
        finally:
            relaying.cancel()

    def _guard(self, target: Callable[[], Any]) -> Callable[[], None]:
        """A part that dies takes the others down cleanly instead of leaving a half monitor."""

        def run() -> None:
            try:
                target()
            except Exception:
                log.exception("%s failed; stopping", threading.current_thread().name)
                self.stop.set()

        return run

    def _score_loop(self) -> None:
        assert self.scorer is not None
        worker = WorkerOptions(default_worker_name(), poll_seconds=0.5)
        while not self.stop.is_set():
            self.wake.wait(1.0)
            self.wake.clear()
            try:
                scored = score_pending(
                    self.engine, self.scorer, batch_size=self.batch_size, worker=worker,
                    max_chunks=CHUNKS_PER_PASS,
                )  # fmt: skip
                if scored:
                    self.wake.set()  # more may be waiting
            except Exception:
                log.exception("scoring failed; retrying")
                self.stop.wait(5.0)

    def _scan_loop(self) -> None:
        """Scan once a minute in its own thread: themes and alerts never hold up scoring."""
        assert self.scan is not None
        last_scan = -1
        while not self.stop.is_set():
            minute = int((time.time() - SCAN_DELAY_SECONDS) // 60)
            if minute == last_scan:
                self.stop.wait(1.0)
                continue
            last_scan = minute
            try:
                end = datetime.fromtimestamp(minute * 60, UTC)  # the minute just completed
                if self.scorer is not None:
                    wait_for_scores(
                        self.engine, self.scorer, end, within=timedelta(minutes=15),
                        timeout=SCORE_WAIT_SECONDS,
                    )  # fmt: skip
                for outcome in scan_brands(self.engine, self.scan, self.echo):
                    self.echo(f"alert for spike {outcome.pop('event_id')}: {outcome}")
            except Exception:
                log.exception("scanning failed; retrying next minute")


def supervise(
    engine: Engine,
    watch_file: str,
    *,
    scorer: SentimentScorer | None,
    scan: ScanOptions | None,
    batch_size: int = 64,
    env: Mapping[str, str] | None = None,
    echo: Callable[[str], Any] = print,
    stop: threading.Event | None = None,
    upkeep: Callable[[], Any] | None = None,
) -> Supervisor:
    """Run every source of the watch file until SIGTERM/SIGINT (or `stop`); `flarewatch run`."""
    supervisor = Supervisor(
        engine, load_watch(watch_file), scorer, scan, batch_size, credentials(env), echo,
        stop=stop or threading.Event(), upkeep=upkeep,
    )  # fmt: skip
    supervisor.run()
    return supervisor
