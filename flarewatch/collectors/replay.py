"""Replay posts from CSV or JSONL files through a column mapping, validating every row."""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import html
import itertools
import json
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flarewatch.collectors.base import Page
from flarewatch.domain import RawAuthor, RawPost, parse_time
from flarewatch.matching import Matcher

FIELDS = (
    "external_id",
    "text",
    "created_at",
    "author",
    "author_id",
    "author_name",
    "followers",
    "verified",
    "url",
    "language",
    "like_count",
    "repost_count",
    "reply_count",
    "quote_count",
    "reply_to",
    "brand",
    "platform",
)
REQUIRED = ("text", "created_at")
INT_FIELDS = ("followers", "like_count", "repost_count", "reply_count", "quote_count")
TRUE_WORDS = {"1", "true", "yes", "y", "t"}


class ReplayError(ValueError):
    """A replay file or one of its rows cannot be imported; the message names file and row."""


def parse_mapping(spec: str | None) -> dict[str, str]:
    """Parse `field=column,field=column` into a mapping; unmapped fields keep their own name."""
    mapping = {name: name for name in FIELDS}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        name, sep, column = part.partition("=")
        if not sep or not column:
            raise ReplayError(f"--map entry {part!r}: expected field=column")
        if name not in FIELDS:
            raise ReplayError(f"--map field {name!r}: expected one of {', '.join(FIELDS)}")
        mapping[name] = column
    return mapping


def _int(name: str, value: Any) -> int:
    if value in (None, ""):
        return 0
    try:
        # int() first: a float round trip would turn large counts into other numbers.
        return (
            int(value)
            if isinstance(value, int) or str(value).strip().isdigit()
            else int(float(value))
        )
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} {value!r} is not a number") from None


@dataclass(frozen=True)
class ReplayOptions:
    """How to read a replay file: column mapping, platform, brand, shifts and unescaping."""

    mapping: Mapping[str, str] = field(default_factory=lambda: parse_mapping(None))
    platform: str = "replay"
    brand: str | None = None
    shift: timedelta = timedelta(0)
    unescape_html: bool = False


def _get(record: Mapping[str, Any], opts: ReplayOptions, name: str) -> Any:
    value = record.get(opts.mapping[name])
    return None if value == "" else value


def _text(record: Mapping[str, Any], opts: ReplayOptions, name: str) -> str | None:
    # JSON values may be numbers or lists; text columns get their string form.
    value = _get(record, opts, name)
    return None if value is None else str(value)


def _author(record: Mapping[str, Any], opts: ReplayOptions, platform: str) -> RawAuthor | None:
    handle = _get(record, opts, "author")
    author_id = _get(record, opts, "author_id") or handle
    if author_id is None:
        return None
    followers = _get(record, opts, "followers")
    verified = str(_get(record, opts, "verified") or "").strip().lower() in TRUE_WORDS
    return RawAuthor(
        platform=platform,
        external_id=str(author_id),
        handle=handle and str(handle),
        display_name=_text(record, opts, "author_name"),
        followers=None if followers is None else _int("followers", followers),
        verified=verified,
    )


def record_to_post(record: Mapping[str, Any], opts: ReplayOptions) -> RawPost:
    """Turn one mapped record into a RawPost, raising ValueError that says what is wrong."""
    missing = [n for n in REQUIRED if _get(record, opts, n) is None]
    if missing:
        raise ValueError(
            "missing " + ", ".join(f"{n} (column {opts.mapping[n]!r})" for n in missing)
        )
    text = str(_get(record, opts, "text"))
    platform = str(_get(record, opts, "platform") or opts.platform)
    external_id = _get(record, opts, "external_id")
    if external_id is None:
        # Files without ids still import idempotently: the same row always hashes the same.
        digest = json.dumps(record, sort_keys=True, default=str).encode()
        external_id = hashlib.sha1(digest).hexdigest()[:20]
    return RawPost(
        platform=platform,
        external_id=str(external_id),
        text=html.unescape(text) if opts.unescape_html else text,
        created_at=parse_time(_get(record, opts, "created_at")) + opts.shift,
        author=_author(record, opts, platform),
        brand=_text(record, opts, "brand") or opts.brand,
        url=_text(record, opts, "url"),
        language=_text(record, opts, "language"),
        reply_to=None
        if _get(record, opts, "reply_to") is None
        else str(_get(record, opts, "reply_to")),
        raw={k: v for k, v in record.items() if v not in (None, "")},
        like_count=_int("like_count", _get(record, opts, "like_count")),
        repost_count=_int("repost_count", _get(record, opts, "repost_count")),
        reply_count=_int("reply_count", _get(record, opts, "reply_count")),
        quote_count=_int("quote_count", _get(record, opts, "quote_count")),
    )


def _lines(path: Path) -> Generator[str, None, None]:
    """The file's lines (gunzipped), decoded one by one so a bad byte is reported at its line."""
    with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as raw:
        for number, data in enumerate(raw, start=1):
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ReplayError(
                    f"{path}: line {number}: not UTF-8 (byte {exc.start + 1}: {exc.reason})"
                ) from None
            # A byte-order mark (as spreadsheets write) is not part of the first column's name.
            yield line.removeprefix("\ufeff") if number == 1 else line


def _records(path: Path, handle: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    stem = path.name.removesuffix(".gz")
    if stem.endswith((".jsonl", ".ndjson", ".json")):
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ReplayError(f"{path}: row {number}: invalid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ReplayError(f"{path}: row {number}: expected a JSON object")
            yield number, record
    else:
        yield from _csv_records(path, handle)


def _csv_records(path: Path, handle: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    # strict: an unterminated quote is an error at its row, not a field swallowing the file.
    reader = csv.DictReader(handle, strict=True)
    number = 0
    while True:
        number += 1
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            reason = f"{type(exc).__name__}: {exc}" if isinstance(exc, UnicodeDecodeError) else exc
            raise ReplayError(
                f"{path}: row {number} (line {line}): unreadable ({reason})"
            ) from None
        if None in record:  # DictReader files surplus fields under the key None
            raise ReplayError(f"{path}: row {number}: more fields than the header has")
        yield number, record


def _check_header(path: Path, first_line: str, opts: ReplayOptions) -> None:
    if path.name.removesuffix(".gz").endswith((".jsonl", ".ndjson", ".json")):
        return
    header = next(csv.reader([first_line]), [])
    missing = [opts.mapping[n] for n in REQUIRED if opts.mapping[n] not in header]
    found = ", ".join(header) or "nothing"
    if missing:
        raise ReplayError(
            f"{path}: header: no column {' or '.join(map(repr, missing))} (found {found})"
        )
    # A column --map names that the file lacks would drop that field from every post silently.
    absent = [
        f"{opts.mapping[n]!r} (for {n})" for n in FIELDS if opts.mapping[n] not in (n, *header)
    ]
    if absent:
        raise ReplayError(
            f"{path}: header: --map names no column {', '.join(absent)} (found {found})"
        )


def read_posts(path: str | Path, opts: ReplayOptions | None = None) -> list[RawPost]:
    """Read and validate every row of a CSV or JSONL file (optionally gzipped) into RawPosts.

    Raises:
        ReplayError: naming the file, the row number and the problem, before anything is stored.
    """
    opts, path = opts or ReplayOptions(), Path(path)
    if not path.exists():
        raise ReplayError(f"{path}: file not found")
    posts: list[RawPost] = []
    try:
        with contextlib.closing(_lines(path)) as lines:
            first = next(lines, "")
            _check_header(path, first, opts)
            for number, record in _records(path, itertools.chain([first], lines)):
                try:
                    posts.append(record_to_post(record, opts))
                except (ValueError, OverflowError) as exc:
                    raise ReplayError(f"{path}: row {number}: {exc}") from None
    except (csv.Error, gzip.BadGzipFile, EOFError) as exc:
        raise ReplayError(f"{path}: unreadable file ({exc})") from None
    return posts


class ReplayCollector:
    """A Collector over a file: yields the file's posts in time order, in pages."""

    source = "replay"

    def __init__(self, path: str | Path, opts: ReplayOptions | None = None, page_size: int = 1000):
        self.path, self.opts, self.page_size = Path(path), opts or ReplayOptions(), page_size

    def fetch(self, query: str = "", since: str | None = None) -> Iterator[Page]:
        """Yield pages of posts after cursor `since` (`ISO time|external id`, or an ISO time).

        A `query` (`term|term|-exclude`) keeps only posts that mention a term as a whole word.
        """
        posts = sorted(
            read_posts(self.path, self.opts), key=lambda p: (p.created_at, p.external_id)
        )
        if since:
            # The id breaks ties: posts sharing the last page's timestamp must not be skipped.
            time_text, _, last_id = since.partition("|")
            after = (datetime.fromisoformat(time_text), last_id)
            posts = [p for p in posts if (p.created_at, p.external_id) > after]
        if query:
            matcher = Matcher.from_spec(query)
            posts = [p for p in posts if matcher.matches(p.text)]
        for start in range(0, len(posts), self.page_size):
            page = posts[start : start + self.page_size]
            yield Page(page, f"{page[-1].created_at.isoformat()}|{page[-1].external_id}")
