"""Malformed, unknown, unauthorised and out-of-order messages on /ws/master/ from a raw
WebSocket client: each gets an error response, and the master keeps serving other workers."""

import base64
import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.harness import Orchestra
from workers.protocol import encode_log_frame

pytestmark = pytest.mark.e2e


def raw_connection(orchestra, token):
    return connect(
        orchestra.ws_url, additional_headers={"Authorization": f"Bearer {token}"},
        proxy=None, open_timeout=10,
    )


def exchange(connection, message) -> dict:
    connection.send(message if isinstance(message, (str, bytes)) else json.dumps(message))
    return json.loads(connection.recv(timeout=10))


def test_bad_messages_get_errors_and_the_master_keeps_serving(orchestra):
    # A hello outside the rules is an error, then a refusal for good: waiting will not cure it.
    with raw_connection(orchestra, orchestra.worker_token) as invalid:
        answer = exchange(invalid, {"type": "hello", "id": 3, "identifier": "raw", "executors": 0})
        assert answer["type"] == "error" and "executors" in answer["error"]
        refusal = json.loads(invalid.recv(timeout=10))
        assert (refusal["type"], refusal["code"]) == ("refused", 4007)
        with pytest.raises(ConnectionClosed) as closed:
            invalid.recv(timeout=10)
        assert closed.value.rcvd.code == 4007

    with raw_connection(orchestra, orchestra.worker_token) as raw:
        answer = exchange(raw, "{not json")
        assert answer["type"] == "error" and "malformed JSON" in answer["error"]
        answer = exchange(raw, b"\x00binary")
        assert answer["type"] == "error"
        answer = exchange(raw, [1, 2])
        assert answer["type"] == "error" and answer["id"] is None
        answer = exchange(raw, {"type": "log", "id": 1, "run": "x", "step": 0, "offset": 0, "data": ""})
        assert answer == {"type": "error", "id": 1, "error": "'log' before 'hello'"}
        answer = exchange(raw, {"type": "launch-missiles", "id": 2})
        assert answer["type"] == "error" and "unknown message type" in answer["error"]

        # Disabled at once, so that it is offered no run it would never answer for.
        answer = exchange(raw, {"type": "hello", "id": 4, "identifier": "raw", "executors": 1,
                                "properties": {"pool": "none-such"}, "runs": []})
        assert answer == {"type": "response", "id": 4, "runs": {}, "binary_logs": True}
        assert orchestra.api("POST", "/api/workers/raw/disable")[0] == 200
        answer = exchange(raw, {"type": "hello", "id": 5, "identifier": "raw", "executors": 1})
        assert answer["type"] == "error" and "already" in answer["error"]

        # Someone else's run, a bad chunk, a bad state: refused, nothing written.
        other = orchestra.trigger("examples", "special-pool")
        answer = exchange(raw, {"type": "log", "id": 6, "run": other["identifier"], "step": 0,
                                "offset": 0, "data": base64.b64encode(b"forged\n").decode()})
        assert answer["type"] == "error" and "not assigned" in answer["error"]
        answer = exchange(raw, {"type": "log", "id": 7, "run": other["identifier"], "step": 0,
                                "offset": 0, "data": "%%%"})
        assert answer["type"] == "error" and "base64" in answer["error"]
        answer = exchange(raw, encode_log_frame(12, other["identifier"], 0, 0, b"forged\n"))
        assert answer["type"] == "error" and answer["id"] == 12 and "not assigned" in answer["error"]
        answer = exchange(raw, encode_log_frame(13, other["identifier"], 0, 0, b"cut")[:30])
        assert answer == {"type": "error", "id": 13, "error": "the binary log frame ends inside its run identifier"}
        answer = exchange(raw, {"type": "state", "id": 8, "run": other["identifier"],
                                "state": {"status": "succeeded"}})
        assert answer["type"] == "error"
        answer = exchange(raw, {"type": "response", "id": 999})
        assert answer["type"] == "error" and "unknown request" in answer["error"]
        assert orchestra.log(other["identifier"]) == b""

        # The master still serves a real worker while the raw connection stays open.
        orchestra.start_worker("honest")
        hello = orchestra.trigger("examples", "hello")
        assert orchestra.wait_for_run(hello["identifier"])["status"] == "succeeded"
        assert exchange(raw, {"type": "launch-missiles", "id": 10})["type"] == "error"

        # Above daphne's 1 MiB limit the connection ends (1009, or dropped without a close
        # frame); the master serves on.
        raw.send(json.dumps({"type": "log", "id": 11, "data": "x" * (1024 * 1024 + 1)}))
        with pytest.raises(ConnectionClosed) as closed:
            raw.recv(timeout=10)
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1009

    assert "refused message" in orchestra.output("master")
    again = orchestra.trigger("examples", "hello")
    assert orchestra.wait_for_run(again["identifier"])["status"] == "succeeded"


def refusal(connection) -> tuple[dict, int]:
    """The refusal message the master sends, then the close code."""
    message = json.loads(connection.recv(timeout=10))
    with pytest.raises(ConnectionClosed) as closed:
        connection.recv(timeout=10)
    return message, closed.value.rcvd.code


def test_refused_connections_are_closed_with_a_reason(orchestra):
    with raw_connection(orchestra, "0" * 64) as raw:
        message, code = refusal(raw)
    assert code == 4001 and message["type"] == "refused" and "token" in message["reason"]

    viewer_token = orchestra.create_user("watcher", "viewer")
    with raw_connection(orchestra, viewer_token) as raw:
        message, code = refusal(raw)
    assert code == 4002 and "may not connect workers" in message["reason"]

    with raw_connection(orchestra, orchestra.worker_token) as raw:
        assert exchange(raw, {"type": "hello", "id": 1, "identifier": "mine", "executors": 1})["type"] == "response"
    other_token = orchestra.create_user("other-worker", "worker")
    with raw_connection(orchestra, other_token) as raw:
        answer = exchange(raw, {"type": "hello", "id": 1, "identifier": "mine", "executors": 1})
        assert answer["type"] == "error" and "another user" in answer["error"]
        message, code = refusal(raw)
    assert code == 4003 and "another user" in message["reason"]
    # The worker client stops and says why.
    intruder = orchestra.start_worker("mine", token=other_token)
    assert intruder.wait(timeout=60) == 1
    assert "belongs to another user" in orchestra.output("worker-mine")

    assert orchestra.api("POST", "/api/workers/mine/disable")[0] == 200
    with raw_connection(orchestra, orchestra.worker_token) as raw:
        exchange(raw, {"type": "hello", "id": 1, "identifier": "mine", "executors": 1})
        message, code = refusal(raw)
    assert code == 4004 and "disabled" in message["reason"]


DISABLE_THE_WORKER_USER = """
from django.contrib.auth.models import User
from orchestra.actions import set_user_enabled
from orchestra.audit import SYSTEM

set_user_enabled(User.objects.get(username="worker"), False, SYSTEM)
"""


def test_a_worker_whose_user_is_disabled_stops_with_the_reason(tmp_path):
    # The master checks a connected worker's token every WORKER_INACTIVE_SECONDS / 3: 2 s.
    orchestra = Orchestra(tmp_path, configuration="tests.e2e.configuration",
                          env={"ORCHESTRA_WORKER_INACTIVE_SECONDS": "6"})
    try:
        orchestra.start_master()
        worker = orchestra.start_worker("w1")
        running = orchestra.trigger("resilience", "numbered", {"lines": 1000000, "bursts": 1000})
        orchestra.wait_for_run(running["identifier"], statuses=("running",))
        orchestra.shell(DISABLE_THE_WORKER_USER)
        assert worker.wait(timeout=30) == 1
        output = orchestra.output("worker-w1")
        assert output.strip().splitlines()[-1] == (
            "the master refused this worker (4001): the token was revoked or its user disabled"
        )
        assert output.count("connected to") == 1
        assert orchestra.output("master").count("worker w1 connected") == 1
        assert orchestra.run(running["identifier"])["status"] == "running"
    finally:
        orchestra.stop()
