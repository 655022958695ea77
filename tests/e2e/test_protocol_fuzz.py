"""Issue 10: a few hundred malformed and oversized frames, made the same way at every run, sent
to a real master on /ws/master/. Each frame the master can parse gets an `error` and the
connection stays; a frame above the message limit ends its connection (daphne) and the next
connection is served; nothing a worker sends makes the master log a traceback; the website
answers throughout, and a real worker runs a run at the end."""

import base64
import contextlib
import json
import os
import socket
import struct
import time
import urllib.request
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.e2e.harness import Orchestra
from workers.protocol import LOG_FRAME_HEADER, MAX_MESSAGE_BYTES, encode_log_frame

pytestmark = pytest.mark.e2e
CONFIGURATION = "tests.e2e.configuration"  # the `orchestra` fixture's (tests/e2e/conftest.py)


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


GIANT = "g" * 300_000
# Values of every JSON type, and a few that are the wrong size or not valid text.
WRONG = [None, True, -1, 1.5, "", "text", [], [1], {}, {"key": "value"}, 2**64, "\ud800",
         nested(200), GIANT]
# Every id the master cannot echo; "", "text" and -1 are good ones.
WRONG_IDS = [value for value in WRONG if value not in ("", "text", -1)]
RUNNING_STATE = {"status": "running", "message": "", "results": {}, "steps": [
    {"index": 0, "status": "running", "started": 1.0, "completed": None, "log_size": 0}]}


def without(*valid) -> list:
    """WRONG but for the values that are valid for a field (compared by type and value)."""
    return [value for value in WRONG if not any(type(value) is type(good) and value == good for good in valid)]


def hello_frames() -> Iterator[dict]:
    """Hellos with one field wrong: each is refused, and the connection stays unregistered."""
    good = {"type": "hello", "identifier": "fuzz", "executors": 1, "properties": {}, "runs": []}
    fields = {
        # A lone surrogate in the identifier and a huge executor count are left to
        # test_hello_values_register_checks_are_errors_too.
        "identifier": [value for value in without("text") if value != "\ud800"],
        "properties": without({}, {"key": "value"}),
        "executors": [value for value in without() if value != 2**64],
        "runs": without([]),
    }
    for field, values in fields.items():
        for value in values:
            yield {**good, field: value}
    for value in WRONG_IDS:
        yield {**good, "id": value}
    yield {key: value for key, value in good.items() if key != "identifier"}


def log_frames(run: str) -> Iterator[dict]:
    good = {"type": "log", "run": run, "step": 0, "offset": 0,
            "data": base64.b64encode(b"fuzz\n").decode()}
    fields = {
        "run": without(),
        "step": without(),
        "offset": without(),
        # "" and "text" are valid base64, and so is GIANT; these are not.
        "data": [value for value in without("", "text") if value != GIANT]
        + ["%%%", "AAA", "é", "QUJD\n", GIANT + "g"],
    }
    for field, values in fields.items():
        for value in values:
            yield {**good, field: value}
    for value in WRONG_IDS:
        yield {**good, "id": value}


def binary_log_frames(run: str) -> Iterator[bytes]:
    """Binary frames that are no log chunk the master can take: cut anywhere in the header or
    the run identifier, of another kind, naming no run, another step or an unusable id."""
    good = encode_log_frame(1, run, 0, 0, b"fuzz\n")
    for length in range(LOG_FRAME_HEADER.size + len(run)):
        yield good[:length]
    for kind in (0, 2, 255):
        yield bytes([kind]) + good[1:]
    for length in (0, 33, 255):
        yield LOG_FRAME_HEADER.pack(1, 1, 0, 0, length) + b"r" * 40
    yield LOG_FRAME_HEADER.pack(1, 1, 0, 0, 2) + "é".encode() + b"fuzz\n"
    yield encode_log_frame(1, "f" * 32, 0, 0, b"fuzz\n")
    yield encode_log_frame(1, run, 2**32 - 1, 0, b"fuzz\n")
    yield encode_log_frame(2**64 - 1, run, 0, 0, b"fuzz\n")
    yield os.urandom(64)


def state_frames(run: str) -> Iterator[dict]:
    good = {"type": "state", "run": run, "state": RUNNING_STATE}
    for value in without():
        yield {**good, "run": value}
        yield {**good, "state": value}
    # Null or absent is an empty value; any other wrong value fails (the first one ends the run
    # `exception`; a state for an ended run is checked all the same).
    fields = {
        "status": without(),
        "message": without(None, "", "text"),
        "results": without(None, {}, {"key": "value"}),
        "steps": without(None, []),
    }
    for field, values in fields.items():
        for value in values:
            yield {**good, "state": {**RUNNING_STATE, field: value}}
    step_fields = {
        "index": without(),
        "status": without(),
        "started": without(None, 1.5),
        "completed": without(None, 1.5),
        "log_size": without(None),
    }
    for field, values in step_fields.items():
        for value in values:
            step = {**RUNNING_STATE["steps"][0], field: value}
            yield {**good, "state": {**RUNNING_STATE, "steps": [step]}}
    yield {**good, "state": {**RUNNING_STATE, "results": {"deep": nested(100)}}}
    yield {**good, "state": {**RUNNING_STATE, "results": {"k" * 200_000: float("nan")}}}
    for value in WRONG_IDS:
        yield {**good, "id": value}


def other_frames() -> Iterator[str | bytes]:
    """Frames that are not a request of a known type with a usable id."""
    for kind in ["", "text", "HELLO", "run.start", "run.abort", "refused", "\ud800", GIANT]:
        yield json.dumps({"type": kind, "id": 1})
    for kind in ["hello", "log", "state", "launch"]:
        yield json.dumps({"type": kind})
    for kind in ["response", "error"]:
        for value in WRONG + [123456, "text"]:
            yield json.dumps({"type": kind, "id": value, "error": nested(50)})
    yield from [
        "", "{", "}", "{'type': 'hello'}", "[]", "5", '"hello"', "null", "NaN", "{}",
        '{"type": 5, "id": 1}', '{"type": null}', '{"type": ["hello"]}',
        "1" * 5000, "[" * 100_000 + "]" * 100_000, '{"type": "log", "id": 1, "run": ' + "[" * 100_000,
        '{"type": "hello", "id": 1, "properties": ' + "{\"a\": " * 50_000 + "1" + "}" * 50_001,
        '{"type": "hello", "id": 1}' + "x",
    ]
    yield from [b"", b"\x00\xff", b'{"type": "hello", "id": 1}']
    # Just within the limit: a run identifier of nearly a megabyte.
    frame = json.dumps({"type": "log", "id": 1, "run": ""})
    yield frame[:-2] + "r" * (MAX_MESSAGE_BYTES - len(frame)) + '"}'


def raw(orchestra: Orchestra, token: str) -> ClientConnection:
    return connect(
        orchestra.ws_url, additional_headers={"Authorization": f"Bearer {token}"}, proxy=None,
        open_timeout=10, max_size=MAX_MESSAGE_BYTES,
    )


def website_answers(orchestra: Orchestra) -> None:
    with urllib.request.urlopen(f"{orchestra.url}/login/", timeout=10) as response:
        assert response.status == 200


class Fuzzer:
    def __init__(self, orchestra: Orchestra):
        self.orchestra = orchestra
        self.sent = 0

    def exchange(self, connection: ClientConnection, frame: dict | str | bytes) -> dict:
        """Send a frame; its answer, which must be an error (with the frame's id if usable)."""
        checked_id = isinstance(frame, dict)
        if checked_id:
            request_id = frame.setdefault("id", 1000 + self.sent)
            usable = request_id not in WRONG_IDS and frame["type"] not in ("response", "error")
            frame = json.dumps(frame)
        connection.send(frame)
        answer = json.loads(connection.recv(timeout=20))
        assert answer["type"] == "error", (frame[:200], answer)
        if checked_id:
            assert answer["id"] == (request_id if usable else None), (frame[:200], answer)
        assert len(answer["error"]) <= 1000
        self.sent += 1
        if self.sent % 25 == 0:
            website_answers(self.orchestra)
        return answer


def masked(payload: bytes, opcode: int = 1) -> bytes:
    """A client's WebSocket frame, written by hand so that it goes out before the answer to the
    handshake is read."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = bytes([0x80 | opcode, 0x80 | length])
    else:
        header = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack(">H", length)
    return header + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


def handshake(orchestra: Orchestra, token: str) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", orchestra.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    connection.sendall((
        f"GET /ws/master/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += connection.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return connection


def drop(connection: socket.socket) -> None:
    """End the TCP connection at once, without a close frame (a reset)."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def read_until_closed(connection: socket.socket) -> bytes:
    received = b""
    with contextlib.suppress(OSError):
        while chunk := connection.recv(65536):
            received += chunk
    connection.close()
    return received


def test_malformed_and_oversized_frames_get_errors_and_never_a_traceback(orchestra):
    started = time.monotonic()
    fuzzer = Fuzzer(orchestra)
    with raw(orchestra, orchestra.worker_token) as connection:
        for kind in ["log", "state"]:
            answer = fuzzer.exchange(connection, {"type": kind, "run": "r", "state": {}})
            assert answer["error"] == f"'{kind}' before 'hello'"
        for frame in hello_frames():
            # A hello outside the rules is refused (4007) once answered: each on a connection
            # of its own. The close follows the answer at once and may reset the connection
            # before the answer is read; the close code then says it all.
            with raw(orchestra, orchestra.worker_token) as own:
                try:
                    fuzzer.exchange(own, frame)
                except ConnectionClosed as closed:
                    assert closed.rcvd is not None and closed.rcvd.code == 4007, (frame, closed)
        assert orchestra.api("GET", "/api/workers/fuzz")[0] == 404

        connection.send(json.dumps({"type": "hello", "id": 1, "identifier": "fuzz", "executors": 1,
                                    "properties": {}, "runs": []}))
        assert json.loads(connection.recv(timeout=20))["type"] == "response"
        run = orchestra.trigger("resilience", "sleep")["identifier"]
        offer = json.loads(connection.recv(timeout=20))
        assert (offer["type"], offer["run"]["identifier"]) == ("run.start", run)
        connection.send(json.dumps({"type": "response", "id": offer["id"]}))
        orchestra.wait_for_run(run, statuses=("running",))

        for frame in [*log_frames(run), *binary_log_frames(run), *state_frames(run), *other_frames()]:
            fuzzer.exchange(connection, frame)
        assert orchestra.run(run)["status"] == "exception"

        # Above the limit daphne ends the connection (1009, or without a close frame).
        connection.send("o" * MAX_MESSAGE_BYTES + "o")
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=20)
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1009

    with raw(orchestra, orchestra.worker_token) as connection:
        connection.send(b"b" * (MAX_MESSAGE_BYTES + 1))
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=20)
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1009
    with raw(orchestra, orchestra.worker_token) as connection:
        fuzzer.exchange(connection, {"type": "launch"})

    # Frames on their way when the master refuses the connection are ignored.
    for token in ["0" * 64, "", orchestra.worker_token[:-1]]:
        connection = handshake(orchestra, token)
        connection.sendall(b"".join(masked(json.dumps({"type": "hello", "id": n}).encode()) for n in range(20)))
        received = read_until_closed(connection)
        assert b'"type": "refused", "code": 4001' in received
        assert b'"type": "error"' not in received
    # A worker that goes away while the master answers it: with a close frame, or without.
    for close_frame in [True, False, True, False]:
        connection = handshake(orchestra, orchestra.worker_token)
        frames = [masked(json.dumps({"type": "hello", "id": 0, "identifier": "gone", "executors": 1}).encode())]
        frames += [masked(json.dumps({"type": "log", "id": n, "run": run}).encode()) for n in range(1, 30)]
        if close_frame:
            frames.append(masked(struct.pack(">H", 1000), opcode=8))
        connection.sendall(b"".join(frames))
        if close_frame:
            read_until_closed(connection)
        else:
            drop(connection)

    orchestra.wait_for_worker("gone", connected=False)

    assert fuzzer.sent > 300
    website_answers(orchestra)
    orchestra.start_worker("honest")
    hello = orchestra.trigger("examples", "hello")
    assert orchestra.wait_for_run(hello["identifier"])["status"] == "succeeded"
    assert orchestra.master.poll() is None
    log = orchestra.output("master")
    assert "Traceback" not in log and " ERROR " not in log, log[-5000:]
    assert time.monotonic() - started < 60


def test_hello_values_register_checks_are_errors_too(orchestra):
    for field, value in [("identifier", "\ud800"), ("executors", 2**64), ("version", "\ud800")]:
        with raw(orchestra, orchestra.worker_token) as connection:
            connection.send(json.dumps({"type": "hello", "id": 1, "identifier": "fuzz", "executors": 1,
                                        "properties": {}, "runs": [], field: value}))
            try:
                answer = json.loads(connection.recv(timeout=20))
            except ConnectionClosed as closed:
                # The master answers, then closes at once: a fast close may reset the connection
                # before the answer is read, and the close code says it all.
                assert closed.rcvd is not None and closed.rcvd.code == 4007, (field, closed)
            else:
                assert answer["type"] == "error" and "retry" not in answer, (field, answer)
    log = orchestra.output("master")
    assert "Traceback" not in log
    assert log.count("worker connection refused: invalid hello: ") == 3
