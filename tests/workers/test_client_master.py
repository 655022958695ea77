"""The worker client against a small master of the test's own, speaking docs/protocol.md."""

import asyncio
import base64
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from workers.client.connection import Refused, WorkerClient
from workers.client.rundir import FINAL_STATUSES, RunDirectory
from workers.client.requests import JSON_CHUNK_BYTES
from workers.protocol import BINARY_CHUNK_BYTES, MAX_MESSAGE_BYTES, decode_log_frame

ROOT = Path(__file__).resolve().parents[2]


class Master:
    """Answers hello, acknowledges every log chunk and state, except those `fails` picks:
    those get the error a master sends when it failed to store them (`retry`)."""

    def __init__(self, fails: Callable[[dict], bool] = lambda message: False, refuse: int | None = None,
                 close_frame: bool = True, binary_logs: bool = False):
        self.fails = fails
        # Whether it says it takes log chunks in binary frames (a master older than them does not).
        self.binary_logs = binary_logs
        # Refuse the worker after its hello with this close code, as a master refuses a revoked
        # token (4001).
        self.refuse = refuse
        # False: the connection then drops without a close frame (as through a proxy that cuts it).
        self.close_frame = close_frame
        self.received: list[tuple[float, dict]] = []
        self.authorizations: list[str | None] = []
        self.arrived = asyncio.Condition()

    async def handle(self, connection: ServerConnection) -> None:
        self.authorizations.append(connection.request.headers.get("Authorization"))
        # The test ends by cancelling the client, which closes its connection abruptly.
        with contextlib.suppress(ConnectionClosed):
            async for frame in connection:
                message = json.loads(frame) if isinstance(frame, str) else binary_log(frame)
                self.received.append((time.monotonic(), message))
                if self.refuse:
                    await connection.send(json.dumps({"type": "refused", "code": self.refuse, "reason": "seen enough"}))
                    if self.close_frame:
                        await connection.close(self.refuse)
                    else:
                        connection.transport.abort()
                    return
                await connection.send(json.dumps({**self.answer(message), "id": message["id"]}))
                async with self.arrived:
                    self.arrived.notify_all()

    def answer(self, message: dict) -> dict:
        if message["type"] == "hello":
            return {"type": "response", "runs": {run: {"logs": {}} for run in message["runs"]},
                    **({"binary_logs": True} if self.binary_logs else {})}
        if self.fails(message):
            return {"type": "error", "error": "database is locked", "retry": True}
        if message["type"] == "log":
            return {"type": "response", "offset": message["offset"] + len(log_bytes(message))}
        return {"type": "response", "final": message["state"]["status"] in FINAL_STATUSES}

    def times(self, kind: str, run: str) -> list[float]:
        return [at for at, message in self.received if message["type"] == kind and message.get("run") == run]

    def final_state_at(self, run: str) -> float | None:
        return next((
            at for at, message in self.received
            if message["type"] == "state" and message["run"] == run
            and message["state"]["status"] in FINAL_STATUSES
        ), None)

    async def until(self, condition: Callable[[], bool], timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            async with self.arrived:
                await self.arrived.wait_for(condition)


def binary_log(frame: bytes) -> dict:
    """A binary log frame as the message it stands for, its bytes raw."""
    log = decode_log_frame(frame)
    return {"type": "log", "id": log.request_id, "run": log.run, "step": log.step,
            "offset": log.offset, "bytes": log.data}


def log_bytes(message: dict) -> bytes:
    return message["bytes"] if "bytes" in message else base64.b64decode(message["data"])


@contextlib.asynccontextmanager
async def serving(master: Master):
    async with serve(master.handle, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws/master/"


@contextlib.asynccontextmanager
async def worker_client(url: str, data_dir: Path):
    client = WorkerClient([url], "token", "w1", {}, 1, data_dir, fork_server=False)
    running = asyncio.create_task(client.run_forever())
    try:
        yield client
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


def start_run(runs_root: Path, identifier: str, command: list[str]) -> RunDirectory:
    directory = RunDirectory.create(runs_root, {
        "identifier": identifier, "project": "p", "job": "j", "worker": "w1",
        "parameters": {}, "steps": [{"name": "step", "command": command}],
    })
    directory.start_executor()
    return directory


def wait_step_started(directory: RunDirectory, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not ((directory.state() or {}).get("steps") or [{}])[0].get("pid"):
        assert time.monotonic() < deadline, "the step did not start"
        time.sleep(0.05)


def open_gate(gate: Path) -> None:
    """Let a step blocked in `cat gate` end: it reads end of file and succeeds."""
    os.close(os.open(gate, os.O_WRONLY))


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in zip(times, times[1:])]


@pytest.mark.parametrize("binary_logs, chunk_bytes", [(True, BINARY_CHUNK_BYTES), (False, JSON_CHUNK_BYTES)])
async def test_logs_go_in_binary_frames_to_a_master_that_takes_them_else_in_base64(tmp_path, binary_logs, chunk_bytes):
    runs_root = tmp_path / "worker" / "runs"
    # 2.5 MB in lines of a thousand bytes, then a last line without its newline.
    directory = start_run(runs_root, "bulk", ["python3", "-c", "print(('y' * 999 + chr(10)) * 2500 + 'end', end='')"])
    directory.process.wait(timeout=20)
    written = (directory.path / "logs" / "0.log").read_bytes()
    master = Master(binary_logs=binary_logs)

    async with serving(master) as url, worker_client(url, tmp_path / "worker"):
        await master.until(lambda: master.final_state_at("bulk") is not None)

    chunks = [message for _, message in master.received if message["type"] == "log"]
    assert all(("bytes" in chunk) == binary_logs for chunk in chunks)
    assert [chunk["offset"] for chunk in chunks] == list(range(0, len(written), chunk_bytes))
    assert b"".join(log_bytes(chunk) for chunk in chunks) == written


@pytest.mark.parametrize("kind", ["log", "state"])
async def test_a_run_the_master_fails_to_store_backs_off_while_other_runs_sync(tmp_path, kind):
    runs_root = tmp_path / "worker" / "runs"
    stuck = start_run(runs_root, "stuck", ["echo", "hello"])
    stuck.process.wait(timeout=20)
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    other = start_run(runs_root, "other", ["cat", str(gate)])
    wait_step_started(other)
    master = Master(fails=lambda message: message["type"] == kind and message["run"] == "stuck")

    async with serving(master) as url, worker_client(url, tmp_path / "worker"):
        await master.until(lambda: len(master.times(kind, "stuck")) == 5)
        # The next try waits 0.8 to 1.6 s: the other run's end goes through meanwhile.
        await asyncio.to_thread(open_gate, gate)
        await master.until(lambda: len(master.times(kind, "stuck")) == 6)

    attempts = master.times(kind, "stuck")
    # Without a back-off the client resends every 50 ms: about 20 times in the first second.
    assert len([at for at in attempts if at - attempts[0] < 1]) <= 5
    # Each delay is 0.1 s doubling, times a jitter between 0.5 and 1.
    assert all(gap >= 0.05 * 2**n for n, gap in enumerate(gaps(attempts)))
    assert master.final_state_at("other") is not None
    assert master.final_state_at("other") < attempts[5]
    assert not other.path.exists()
    other.process.wait(timeout=20)


async def test_the_back_off_starts_again_from_its_shortest_delay_after_a_success(tmp_path):
    runs_root = tmp_path / "worker" / "runs"
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    directory = start_run(runs_root, "flaky", ["cat", str(gate)])
    wait_step_started(directory)
    # Five failures, one success, then failures again.
    master = Master(fails=lambda message: message["type"] == "state" and len(master.times("state", "flaky")) != 6)

    async with serving(master) as url, worker_client(url, tmp_path / "worker"):
        await master.until(lambda: len(master.times("state", "flaky")) == 6)
        # A new state to send: the step ends.
        await asyncio.to_thread(open_gate, gate)
        await master.until(lambda: len(master.times("state", "flaky")) == 8)

    attempts = master.times("state", "flaky")
    # Had the back-off gone on, the try after the 7th would wait 1.6 to 3.2 s.
    assert gaps(attempts)[6] < 1.0
    directory.process.wait(timeout=20)


@pytest.mark.parametrize("code", [4001, 4006])
async def test_a_client_whose_hello_the_master_answers_by_closing_stops_with_the_reason(tmp_path, code):
    master = Master(refuse=code)
    async with serving(master) as url:
        client = WorkerClient([url], "revoked", "w1", {}, 1, tmp_path, fork_server=False)
        # Not after the 60 s a hello answer may take: the connection is gone.
        async with asyncio.timeout(10):
            with pytest.raises(Refused, match=rf"\({code}\): seen enough"):
                await client.run_forever()
    assert [message["type"] for _, message in master.received] == ["hello"]


async def test_a_refused_client_stops_even_if_the_close_frame_is_lost(tmp_path):
    master = Master(refuse=4001, close_frame=False)
    async with serving(master) as url:
        client = WorkerClient([url], "revoked", "w1", {}, 1, tmp_path, fork_server=False)
        async with asyncio.timeout(10):
            with pytest.raises(Refused, match=r"\(4001\): seen enough"):
                await client.run_forever()
    assert [message["type"] for _, message in master.received] == ["hello"]


async def test_a_hello_too_large_for_a_message_stops_the_client_unsent(tmp_path):
    master = Master()
    async with serving(master) as url:
        client = WorkerClient([url], "token", "w1", {"big": "x" * MAX_MESSAGE_BYTES}, 1, tmp_path,
                              fork_server=False)
        # Sent, it would end the connection, and go again after every reconnection.
        async with asyncio.timeout(10):
            with pytest.raises(Refused, match=r"hello is \d+ bytes, more than the 1048576 bytes"):
                await client.run_forever()
    assert master.authorizations == ["Bearer token"]
    assert master.received == []


@pytest.mark.parametrize("command", [["-m", "workers.client"], [str(ROOT / "manage.py"), "runworker_client"]])
async def test_the_client_reads_its_token_and_data_directory_from_files(tmp_path, command):
    (tmp_path / "token").write_text("s3cret\n")
    (tmp_path / "data-dir").write_text(f"{tmp_path / 'from-file'}\n")
    environment = {
        name: value for name, value in os.environ.items()
        if not name.startswith(("ORCHESTRA_WORKER_TOKEN", "ORCHESTRA_DATA_DIR"))
    }
    environment.update(
        ORCHESTRA_WORKER_TOKEN_FILE=str(tmp_path / "token"),
        ORCHESTRA_DATA_DIR_FILE=str(tmp_path / "data-dir"),
    )
    master = Master(refuse=4001)
    async with serving(master) as url:
        # Run from tmp_path: the default ./data is then neither the directory the file names
        # nor inside the checkout.
        client = await asyncio.create_subprocess_exec(
            sys.executable, *command, "--master-url", url, "--identifier", "w1",
            cwd=tmp_path, env={**environment, "PYTHONPATH": str(ROOT)}, stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(60):
                _, errors = await client.communicate()
        finally:
            if client.returncode is None:
                client.kill()
                await client.wait()
    assert master.authorizations == ["Bearer s3cret"]
    assert "the master refused this worker (4001): seen enough" in errors.decode()
    assert client.returncode == 1
    assert (tmp_path / "from-file" / "worker-w1" / "worker.lock").exists()
