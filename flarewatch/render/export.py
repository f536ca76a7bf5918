"""Spreadsheet-safe CSV exports: outreach lists (public profile data, post links) and reviewer labels."""

from __future__ import annotations

import csv
from typing import Any

import pandas as pd

EXPORT_COLUMNS = [
    "priority",
    "author_id",
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
    "reply_url",
    "followup_url",
    "ticket_url",
    "recovery",
]
# A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix a formula-looking string with a quote so spreadsheets show it as text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


LABEL_EXPORT_COLUMNS = ["post_id", "text", "label", "labelled_by", "labelled_at"]


def safe_csv(frame: pd.DataFrame, columns: list[str]) -> bytes:
    """`frame`'s `columns` as UTF-8 CSV safe to open in a spreadsheet: every field quoted
    (a bare CR cannot split a row) and formula-looking cells neutralised."""
    safe = frame.reindex(columns=columns).apply(lambda column: column.map(neutralise))
    return safe.to_csv(index=False, quoting=csv.QUOTE_ALL, lineterminator="\n").encode("utf-8")


def outreach_csv(table: pd.DataFrame) -> bytes:
    """A ranked outreach table as spreadsheet-safe CSV (author ids included for `outreach set`)."""
    return safe_csv(table, EXPORT_COLUMNS)


def labels_csv(frame: pd.DataFrame) -> bytes:
    """Reviewer labels with post texts as spreadsheet-safe CSV, readable by `model evaluate --csv`."""
    return safe_csv(frame, LABEL_EXPORT_COLUMNS)
