"""Collector fixtures: fake credentials, an instant retrier, and no way out to the network."""

from __future__ import annotations

import random
import socket

import pytest

from flarewatch.collectors.backoff import Backoff, Retrier
from tests.collectors.recording import FAKE_ENV, RECORD

NOW = 1772452800.0  # 2026-03-02T12:00:00Z, the time the cassettes were "recorded"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuse any connection that is not loopback, in case a client slips past the recorder."""
    if RECORD:
        return
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if sock.family == socket.AF_UNIX or host in ("127.0.0.1", "::1", "localhost"):
            return real_connect(sock, address)
        raise AssertionError(f"test tried to reach the network: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def env(monkeypatch):
    """Fake credentials, in the process environment and as a mapping."""
    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)
    return dict(FAKE_ENV)


@pytest.fixture
def retrier():
    """A Retrier that records its sleeps instead of sleeping, on a frozen clock."""
    return Retrier(
        Backoff(attempts=4, base=1.0, cap=8.0, max_sleep=120.0),
        sleep=lambda s: None,
        clock=lambda: NOW,
        rng=random.Random(7),
    )
