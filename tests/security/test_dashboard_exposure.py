"""The dashboard: never served beyond loopback without a password, and slow to guess at."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

import flarewatch
import flarewatch.dashboard
from flarewatch.cli import cli
from flarewatch.dashboard.auth import FREE_ATTEMPTS, THROTTLE, Throttle

APP = str(Path(flarewatch.dashboard.__file__).parent / "app.py")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle__free_attempts_then_doubling_delay_per_client():
    clock = FakeClock()
    throttle = Throttle(clock=clock)
    for _ in range(FREE_ATTEMPTS - 1):
        throttle.failed("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") == 0
    throttle.failed("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") == 1
    clock.now += 1
    throttle.failed("10.0.0.9")
    throttle.failed("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") == 4
    assert throttle.wait_s("10.0.0.10") == 0  # another client is not slowed
    for _ in range(40):
        throttle.failed("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") == 900  # capped at 15 minutes
    throttle.succeeded("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") == 0


def test_login__repeated_wrong_passwords_lock_out_even_the_right_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLAREWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'fw.db'}")
    monkeypatch.setenv("FLAREWATCH_DASHBOARD_PASSWORD", "s3cret")
    clock = FakeClock()
    monkeypatch.setattr(THROTTLE, "clock", clock)
    THROTTLE._failures.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=30).run()
        for _ in range(FREE_ATTEMPTS):
            at.text_input[0].input("guess")
            at.button[0].click().run()
            assert at.error[0].value == "Wrong password."
        at.text_input[0].input("s3cret")
        at.button[0].click().run()
        assert at.error[0].value.startswith("Too many wrong passwords: try again in")
        assert at.title[0].value == "Flarewatch" and not at.metric
        clock.now += 1
        at.button[0].click().run()
        assert not at.error and at.session_state["authenticated"]
    finally:
        THROTTLE._failures.clear()


@pytest.mark.parametrize("address", ["0.0.0.0", "192.0.2.7", "::"])
def test_dashboard__refuses_beyond_loopback_without_a_password(tmp_path, monkeypatch, address):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLAREWATCH_DASHBOARD_PASSWORD", raising=False)
    monkeypatch.setenv("FLAREWATCH_DASHBOARD_ADDRESS", address)
    result = CliRunner().invoke(cli, ["--database-url", "sqlite://", "dashboard"])
    assert result.exit_code == 1
    assert f"dashboard address {address} is reachable by others" in result.output


def test_dashboard__insecure_serves_open_with_a_warning(tmp_path, monkeypatch):
    calls = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLAREWATCH_DASHBOARD_PASSWORD", raising=False)
    monkeypatch.setenv("FLAREWATCH_DASHBOARD_ADDRESS", "0.0.0.0")
    monkeypatch.setattr(
        "flarewatch.cli.admin.run_forwarding_signals", lambda cmd, env: calls.append(cmd) or 0
    )
    result = CliRunner().invoke(cli, ["--database-url", "sqlite://", "dashboard", "--insecure"])
    assert result.exit_code == 0, result.output
    assert "WARNING: serving on 0.0.0.0 with no password" in result.output
    assert calls and calls[0][calls[0].index("--server.address") + 1] == "0.0.0.0"
    assert Path(calls[0][4]).is_file()  # the app the child runs exists


def test_dashboard__password_in_dotenv_allows_any_address(tmp_path, monkeypatch):
    calls = []
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("FLAREWATCH_DASHBOARD_PASSWORD=s3cret\n")
    monkeypatch.setenv("FLAREWATCH_DASHBOARD_ADDRESS", "0.0.0.0")
    monkeypatch.setattr(
        "flarewatch.cli.admin.run_forwarding_signals", lambda cmd, env: calls.append(cmd) or 0
    )
    result = CliRunner().invoke(cli, ["--database-url", "sqlite://", "dashboard"])
    assert result.exit_code == 0 and "WARNING" not in result.output and calls


CHILD = r"""
import os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: (os.write(1, b"child got TERM\n"), os._exit(7)))
print("ready", flush=True)
time.sleep(30)
"""

PARENT = """
import sys
from flarewatch.cli.admin import run_forwarding_signals
sys.exit(run_forwarding_signals([sys.executable, "-c", sys.argv[1]], {}))
"""


def test_run_forwarding_signals__terminating_the_cli_terminates_the_child():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, CHILD],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(flarewatch.__file__).parent.parent,
    )
    assert parent.stdout and parent.stdout.readline().strip() == "ready"
    started = time.monotonic()
    parent.send_signal(signal.SIGTERM)
    out, _ = parent.communicate(timeout=10)
    assert "child got TERM" in out
    assert parent.returncode == 7 and time.monotonic() - started < 10
