"""One word per source: a stream refused by its platform says it polls instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from flarewatch.analysis.health import verdict

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def _row(state: str | None, failures: int = 0) -> pd.Series:
    return pd.Series(
        {
            "stream_state": state,
            "consecutive_failures": failures,
            "last_success_at": NOW - timedelta(minutes=1),
        }
    )


def test_verdict__refused_stream_polling__says_so_unless_polling_fails():
    assert verdict(_row("polling"), NOW) == "polling (stream refused)"
    assert verdict(_row("polling", failures=2), NOW) == "failing (2 in a row)"
    assert verdict(_row("connected"), NOW) == "ok"
    assert verdict(_row("reconnecting"), NOW) == "reconnecting"
