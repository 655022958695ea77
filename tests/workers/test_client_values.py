"""The worker client checks its identifier and properties with the master's own rules
(orchestra.values) before it connects or makes a directory, and stops when the master refuses
its hello (4007)."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

from workers.client.connection import Refused, WorkerClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "identifier, properties, message",
    [
        ("../escape", [], "identifier"),
        ("a b", [], "identifier"),
        ("w1", [("pool", "x" * 1001)], "properties.pool: must be at most 1000 characters"),
        ("w1", [("pool", "two\nlines")], "properties.pool: must be one line"),
    ],
)
def test_a_client_with_an_identifier_or_property_outside_the_rule_stops_at_once(
    tmp_path, identifier, properties, message
):
    arguments = [argument for name, value in properties for argument in ("--property", f"{name}={value}")]
    # Nothing listens on port 9: a client that did not stop would try to connect for ever.
    client = subprocess.run(
        [sys.executable, "-m", "workers.client", "--master-url", "ws://127.0.0.1:9/ws/master/",
         "--token", "token", "--identifier", identifier, *arguments],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRA_DATA_DIR": str(tmp_path / "data")},
        capture_output=True, text=True, timeout=30,
    )
    assert client.returncode == 2, client.stderr
    assert message in client.stderr
    assert list(tmp_path.iterdir()) == []


async def refuse_hello(connection: ServerConnection) -> None:
    await connection.recv()
    await connection.send(json.dumps({"type": "refused", "code": 4007,
                                      "reason": "invalid hello: version: must be text"}))
    await connection.close(4007)


async def test_a_client_whose_hello_is_invalid_stops_with_the_reason(tmp_path):
    async with serve(refuse_hello, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        client = WorkerClient([f"ws://127.0.0.1:{port}/ws/master/"], "token", "w1", {}, 1,
                              tmp_path, fork_server=False)
        async with asyncio.timeout(10):
            with pytest.raises(Refused, match=r"\(4007\): invalid hello: version: must be text"):
                await client.run_forever()
