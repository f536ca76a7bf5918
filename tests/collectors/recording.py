"""Recorded HTTP for collector tests: vcrpy cassettes with secrets scrubbed, all of them played."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import vcr

CASSETTES = Path(__file__).parent / "cassettes"
# FLAREWATCH_RECORD=1 with real credentials in the environment re-records new interactions;
# the scrubbers below still run, so no secret reaches the cassette files.
RECORD = os.environ.get("FLAREWATCH_RECORD") == "1"
FAKE_ENV = {
    "X_BEARER_TOKEN": "fake-x-bearer-token",
    "REDDIT_CLIENT_ID": "fake-reddit-client-id",
    "REDDIT_CLIENT_SECRET": "fake-reddit-client-secret",
    "REDDIT_USER_AGENT": "flarewatch-tests/0.1",
    "BLUESKY_HANDLE": "flarewatch-test.bsky.social",
    "BLUESKY_APP_PASSWORD": "fake-app-pass-word",
}
SECRET_KEYS = ("access_token", "refresh_token", "accessJwt", "refreshJwt", "password")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# atproto reads `exp` out of the session JWT, so the placeholder must still be a JWT.
PLACEHOLDER_JWT = ".".join(
    [
        _b64({"typ": "at+jwt", "alg": "ES256K"}),
        _b64(
            {
                "scope": "com.atproto.appPass",
                "sub": "did:plc:flarewatchtest",
                "iat": 1767225600,
                "exp": 4102444800,
            }
        ),
        base64.urlsafe_b64encode(b"placeholder-signature").decode().rstrip("="),
    ]
)


def _scrub_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (PLACEHOLDER_JWT if "Jwt" in k else f"<{k.upper()}>")
            if k in SECRET_KEYS
            else _scrub_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub_json(v) for v in value]
    return value


def scrub_body(body: bytes | str | None) -> bytes | str | None:
    """Replace tokens and passwords inside a JSON body by placeholders."""
    if not body:
        return body
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    scrubbed = json.dumps(_scrub_json(data), ensure_ascii=False)
    return scrubbed.encode() if isinstance(body, bytes) else scrubbed


def scrub_request(request: Any) -> Any:
    """Scrub a request before it is written: auth headers, secrets in the body."""
    for name in list(request.headers):
        if name.lower() in ("authorization", "cookie"):
            request.headers[name] = "<AUTHORIZATION>"
    request.body = scrub_body(request.body)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Scrub a response before it is written: tokens in JSON bodies, cookies."""
    response["headers"] = {
        k: v for k, v in response["headers"].items() if k.lower() not in ("set-cookie",)
    }
    response["body"]["string"] = scrub_body(response["body"]["string"])
    return response


RECORDER = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="new_episodes" if RECORD else "none",
    match_on=["method", "scheme", "host", "port", "path", "query"],
    before_record_request=scrub_request,
    before_record_response=scrub_response,
    decode_compressed_response=True,
)


@contextmanager
def recording(name: str) -> Iterator[Any]:
    """Play cassette `name`; fail if any recorded response was not played.

    A request that is not in the cassette raises (vcrpy's record_mode "none"), so a test
    never reaches the network; a response never asked for fails the test too, so a test
    cannot silently stop exercising its recording.
    """
    with RECORDER.use_cassette(f"{name}.yaml", allow_playback_repeats=False) as cassette:
        yield cassette
    unplayed = len(cassette.responses) - cassette.play_count
    assert cassette.play_count > 0, f"cassette {name}: no recorded response was played"
    assert unplayed == 0, f"cassette {name}: {unplayed} recorded response(s) never played"
