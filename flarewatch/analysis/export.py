"""Spreadsheet-safe CSV export of outreach lists: public profile data and post links only."""

from __future__ import annotations

from typing import Any

import pandas as pd

EXPORT_COLUMNS = [
    "priority",
    "platform",
    "handle",
    "display_name",
    "followers",
    "verified",
    "negative_posts",
    "reason",
    "latest_url",
    "status",
    "assignee",
    "note",
]
# A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix a formula-looking string with a quote so spreadsheets show it as text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def outreach_csv(table: pd.DataFrame) -> bytes:
    """Render a ranked outreach table as UTF-8 CSV safe to open in a spreadsheet."""
    frame = table.reindex(columns=EXPORT_COLUMNS)
    safe = frame.apply(lambda column: column.map(neutralise))
    return safe.to_csv(index=False).encode("utf-8")
