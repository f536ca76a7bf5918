"""Recorded HTTP for publisher tests: the collectors' scrubbers and checks, our own cassettes."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import vcr

from tests.collectors.recording import RECORD, scrub_body, scrub_request, scrub_response

CASSETTES = Path(__file__).parent / "cassettes"
FAKE_ENV = {
    "X_API_KEY": "fake-x-api-key",
    "X_API_SECRET": "fake-x-api-secret",
    "X_ACCESS_TOKEN": "fake-x-access-token",
    "X_ACCESS_TOKEN_SECRET": "fake-x-access-token-secret",
    "MASTODON_TOKEN_MASTODON_SOCIAL": "fake-mastodon-token",
    "BLUESKY_PUBLISH_APP_PASSWORD": "fake-app-pass-word",
    "STATUSPAGE_API_KEY": "fake-statuspage-key",
}


def _recorder(seen: list[Any]) -> vcr.VCR:
    def keep(request: Any) -> Any:
        # vcrpy passes each outgoing request through here before matching it: keep a copy of
        # what was really sent (bodies, headers) for the test, then scrub as usual.
        seen.append(copy.deepcopy(request))
        return scrub_request(request)

    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="new_episodes" if RECORD else "none",
        match_on=["method", "scheme", "host", "port", "path", "query"],
        before_record_request=keep,
        before_record_response=scrub_response,
        decode_compressed_response=True,
    )


@contextmanager
def recording(name: str) -> Iterator[Any]:
    """Play cassette `name`; fail on any request not in it and on any response never played.

    The cassette's `sent` lists the requests the client really made, in order.
    """
    seen: list[Any] = []
    with _recorder(seen).use_cassette(f"{name}.yaml", allow_playback_repeats=False) as cassette:
        seen.clear()  # loading the cassette passed its own recorded requests through `keep`
        cassette.sent = _Sent(seen)
        yield cassette
    unplayed = len(cassette.responses) - cassette.play_count
    assert cassette.play_count > 0, f"cassette {name}: no recorded response was played"
    assert unplayed == 0, f"cassette {name}: {unplayed} recorded response(s) never played"


class _Sent(list):
    """The requests really sent, once each: vcrpy passes a request (and its scrubbed copy)
    through `keep` more than once while matching it."""

    def __init__(self, seen: list[Any]):
        super().__init__()
        self._seen = seen

    def __iter__(self):
        return iter(self._unique())

    def __getitem__(self, index):
        return self._unique()[index]

    def __len__(self) -> int:
        return len(self._unique())

    def _unique(self) -> list[Any]:
        found: dict[tuple[str, str, str], Any] = {}
        for request in self._seen:
            found.setdefault(_key(request), request)
        return list(found.values())


def _key(request: Any) -> tuple[str, str, str]:
    body = request.body
    try:
        normal = json.dumps(json.loads(scrub_body(body) or "null"), sort_keys=True)
    except (ValueError, TypeError):
        normal = str(body)
    return (request.method, request.uri, normal)
