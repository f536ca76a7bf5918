"""The incident webhook listener under hostile requests: clean 4xx answers, bounded reads and time."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flarewatch.webhooks.listener import MAX_BODY, handle_request, make_server, pagerduty_signature

SECRET = "s3cr3t-token"
PAGERDUTY = {
    "event": {
        "event_type": "incident.triggered",
        "occurred_at": "2026-03-02T12:00:00Z",
        "data": {"id": "PGR1", "type": "incident", "title": "Login down", "status": "triggered"},
    }
}


class Recorder:
    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> int:
        self.events.append(event)
        return len(self.events)


@pytest.fixture
def server() -> Iterator[tuple[int, Recorder]]:
    recorder = Recorder()
    srv = make_server(recorder, port=0, secret=SECRET, read_timeout=0.5, deadline_s=1.5)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_port, recorder
    srv.shutdown()
    srv.server_close()


def _raw(port: int, request: bytes, *, wait_s: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _post(headers: str, body: bytes = b"", path: str = "/webhooks/pagerduty") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode("latin-1") + body


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


@pytest.mark.slow
@pytest.mark.parametrize(
    "headers, body, status",
    [
        ("Content-Length: -1\r\n", b"{}" * 100, 400),
        ("Content-Length: abc\r\n", b"{}", 400),
        ("Content-Length: \xb9\xb2\r\n", b"{}", 400),  # superscript digits int() would accept
        ("Content-Length: 1e3\r\n", b"{}", 400),
        (f"Content-Length: {MAX_BODY + 1}\r\n", b"", 413),
        ("Content-Length: 99999999999999999999\r\n", b"", 400),
        ("Content-Length: 2\r\nContent-Length: 3\r\n", b"{}", 400),
        ("Transfer-Encoding: chunked\r\n", b"2\r\n{}\r\n0\r\n\r\n", 411),
        ("", b"", 411),
        ("Content-Length: 2\r\nX-PagerDuty-Signature: v1=\xe9\xe8\xff\r\n", b"{}", 401),
    ],
)
def test_listener__hostile_headers_get_a_clean_answer(server, headers, body, status):
    port, recorder = server
    response = _raw(port, _post(headers, body))
    assert _status(response) == status
    assert b"Traceback" not in response and json.loads(response.split(b"\r\n\r\n", 1)[1])
    assert recorder.events == []


@pytest.mark.slow
def test_listener__deeply_nested_json_is_400_not_a_crash(server):
    port, recorder = server
    body = b"[" * 200_000 + b"]" * 200_000
    signature = pagerduty_signature(SECRET, body)
    headers = f"Content-Length: {len(body)}\r\nX-PagerDuty-Signature: {signature}\r\n"
    response = _raw(port, _post(headers, body))
    assert _status(response) == 400 and recorder.events == []


@pytest.mark.slow
def test_listener__slow_client_is_cut_off_at_the_deadline(server):
    port, _ = server
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(_post("Content-Length: 100\r\n", b"{"))
        try:
            while time.monotonic() - started < 8:  # one byte every 0.3 s: under the read timeout
                time.sleep(0.3)
                conn.sendall(b" ")
        except OSError:
            pass  # the server hung up
        response = conn.recv(65536)
    assert time.monotonic() - started < 5
    assert response == b"" or _status(response) == 408


@pytest.mark.slow
def test_listener__signed_request_still_applies(server):
    port, recorder = server
    body = json.dumps(PAGERDUTY).encode()
    headers = (
        f"Content-Length: {len(body)}\r\nX-PagerDuty-Signature: "
        f"{pagerduty_signature(SECRET, body)}\r\nConnection: close\r\n"
    )
    response = _raw(port, _post(headers, body))
    assert _status(response) == 200 and len(recorder.events) == 1


header_text = st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=40)
header_names = st.sampled_from(
    ["Content-Length", "content-length", "Transfer-Encoding", "X-PagerDuty-Signature", "X-Other"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(st.tuples(header_names, header_text), max_size=5),
    body=st.one_of(
        st.binary(max_size=2000),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
            max_leaves=30,
        ).map(lambda v: json.dumps(v).encode()),
        st.integers(1, 5000).map(lambda n: b"[" * n),
    ),
    path=st.text(max_size=60).map(lambda p: "/" + p),
    signed=st.booleans(),
    exact_length=st.booleans(),
)
def test_handle_request__any_request_gets_a_reply_never_an_exception(
    headers, body, path, signed, exact_length
):
    recorder = Recorder()
    headers = list(headers)
    if exact_length:
        headers.append(("Content-Length", str(len(body))))
    if signed:
        headers.append(("X-PagerDuty-Signature", pagerduty_signature(SECRET, body)))
    stream = io.BytesIO(body)
    reads: list[int] = []

    def read(n: int) -> bytes:
        reads.append(n)
        return stream.read(n)

    reply = handle_request(recorder, SECRET, path, headers, read, time.monotonic() + 60)
    assert reply.status in {200, 400, 401, 408, 411, 413}
    json.dumps(reply.body)
    assert sum(reads) <= MAX_BODY
    assert (reply.status == 200) == bool(recorder.events)
    if exact_length and signed and len(headers) == 2 and len(body) <= MAX_BODY:
        assert reply.status in {200, 400}  # read, authenticated, judged on its JSON
    if reply.status != 401 and reply.status != 200:
        assert "error" in reply.body


def test_handle_request__reads_no_more_than_announced():
    stream = io.BytesIO(b"{}" + b"x" * 10_000)
    headers = [("Content-Length", "2")]
    reply = handle_request(Recorder(), None, "/", headers, stream.read, time.monotonic() + 5)
    assert reply.status == 400 and stream.tell() == 2
