"""Recorded HTTP for outbound actions: the collectors' scrubbed cassettes, plus request bodies.

A recorded request body is matched as a subset of the body sent (JSON or form fields), so a
reply that lost its reply reference, visibility or ticket field does not find its recording.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import vcr

from tests.collectors.recording import scrub_request, scrub_response

CASSETTES = Path(__file__).parent / "cassettes"


def parse_body(body: Any) -> Any:
    """A request body as JSON, else as form fields, else as text."""
    if body is None or body == b"" or body == "":
        return None
    text = body.decode() if isinstance(body, bytes) else str(body)
    try:
        return json.loads(text)
    except ValueError:
        fields = parse_qsl(text, keep_blank_values=True)
        return dict(fields) if fields else text


def contains(sent: Any, recorded: Any) -> bool:
    """Whether every field of `recorded` is in `sent` with the same value (recursively)."""
    if isinstance(recorded, dict):
        return isinstance(sent, dict) and all(
            k in sent and contains(sent[k], v) for k, v in recorded.items()
        )
    return sent == recorded


def body_subset(sent: Any, recorded: Any) -> None:
    expected = parse_body(recorded.body)
    if expected is not None and not contains(parse_body(sent.body), expected):
        raise AssertionError(f"body {parse_body(sent.body)!r} lacks {expected!r}")


RECORDER = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    match_on=["method", "scheme", "host", "port", "path", "query", "body_subset"],
    before_record_request=scrub_request,
    before_record_response=scrub_response,
    decode_compressed_response=True,
)
RECORDER.register_matcher("body_subset", body_subset)


@contextmanager
def recording(name: str) -> Iterator[Any]:
    """Play cassette `name`; fail if a request is not in it or a recorded response was not played."""
    with RECORDER.use_cassette(f"{name}.yaml", allow_playback_repeats=False) as cassette:
        yield cassette
    unplayed = len(cassette.responses) - cassette.play_count
    assert cassette.play_count > 0, f"cassette {name}: no recorded response was played"
    assert unplayed == 0, f"cassette {name}: {unplayed} recorded response(s) never played"
