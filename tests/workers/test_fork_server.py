"""Executors forked by the worker client's fork server: the same executor, detached the same way."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.harness import Orchestra, processes_under
from workers.client.connection import WorkerClient
from workers.client.forkserver import ForkServer
from workers.client.rundir import FINAL_STATUSES, RunDirectory, step_environment

ROOT = Path(__file__).resolve().parents[2]


def create(root, identifier, steps):
    return RunDirectory.create(root, {
        "identifier": identifier, "project": "p", "job": "j", "worker": "w",
        "parameters": {"n": 7}, "steps": steps,
    })


def wait_until(condition, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.05)


def wait_final(directory, timeout=20):
    wait_until(lambda: (directory.state() or {}).get("status") in FINAL_STATUSES, timeout, "final state")
    return directory.state()


def wait_step_started(directory):
    wait_until(lambda: ((directory.state() or {}).get("steps") or [{}])[0].get("pid"), what="step")


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def process_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def descriptors(pid: int) -> dict[int, str]:
    return {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}


@pytest.fixture
def fork_server(tmp_path):
    server = ForkServer(tmp_path, step_environment())
    yield server
    server.close()


def test_a_forked_executor_runs_the_steps_like_a_spawned_one(tmp_path, fork_server):
    directory = create(tmp_path, "forked", [
        {"name": "write", "command": ["sh", "-c", 'echo \'{{"a": 1}}\' > "$ORCHESTRA_RESULTS_FILE"; echo out']},
        {"name": "read", "command": ["echo", "a={results[a]}", "n={n}"]},
    ])
    directory.start_executor(fork_server)
    assert directory.process is None
    pid = directory.executor_pid()
    assert pid and pid != fork_server.process.pid

    state = wait_final(directory)
    assert state["status"] == "succeeded"
    assert state["pid"] == pid
    assert state["results"] == {"a": 1}
    assert (directory.path / "logs" / "0.log").read_bytes() == b"out\n"
    assert (directory.path / "logs" / "1.log").read_bytes() == b"a=1 n=7\n"
    assert fork_server.process.poll() is None  # it serves the next run


def test_a_forked_executor_is_detached_like_a_spawned_one(tmp_path, fork_server):
    spawned = create(tmp_path, "spawned", [{"name": "sleep", "command": ["sleep", "30"]}])
    spawned.start_executor()
    forked = create(tmp_path, "forked", [{"name": "sleep", "command": ["sleep", "30"]}])
    forked.start_executor(fork_server)
    for directory in (spawned, forked):
        wait_step_started(directory)
    pids = {"spawned": spawned.process.pid, "forked": forked.executor_pid()}
    try:
        forked_status, spawned_status = process_status(pids["forked"]), process_status(pids["spawned"])
        # Its own session, the same signal dispositions as a fresh interpreter.
        assert os.getsid(pids["forked"]) == pids["forked"]
        for field in ("SigBlk", "SigIgn", "SigCgt"):
            assert forked_status[field] == spawned_status[field], field
        # Nothing of the fork server or the worker client: no socket, stdin from /dev/null,
        # stdout and stderr to executor.out (and the step's log, which the executor opens).
        files = descriptors(pids["forked"])
        assert not [target for target in files.values() if target.startswith("socket:")]
        assert files[0] == os.devnull
        assert files[1] == files[2] == str(forked.path / "executor.out")
        assert set(files) - {0, 1, 2} == set(descriptors(pids["spawned"])) - {0, 1, 2}
        # A restarted client (no process handle) knows it by its pid.
        assert RunDirectory(forked.path).executor_alive()
    finally:
        spawned.abort()
        forked.abort()
    assert wait_final(forked)["status"] == "aborted"
    assert wait_final(spawned)["status"] == "aborted"
    wait_until(lambda: gone(pids["forked"]), what="end of the forked executor")
    assert not RunDirectory(forked.path).executor_alive()


CLIENT = """
import sys, time
from pathlib import Path
from workers.client.forkserver import ForkServer
from workers.client.rundir import RunDirectory, step_environment
server = ForkServer(Path(sys.argv[1]), step_environment())
RunDirectory(Path(sys.argv[2])).start_executor(server)
print(server.process.pid, flush=True)
time.sleep(300)
"""


def test_the_fork_server_leaves_with_its_client_and_the_executors_carry_on(tmp_path):
    directory = create(tmp_path, "survivor", [
        {"name": "wait", "command": ["sh", "-c", "while [ ! -e go ]; do sleep 0.05; done; echo went"]},
    ])
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(tmp_path), str(directory.path)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        server = int(client.stdout.readline())
        wait_step_started(directory)
        executor = directory.executor_pid()

        client.kill()  # SIGKILL to the client alone
        client.wait()
        wait_until(lambda: gone(server), what="end of the fork server")
        assert not gone(executor)

        (directory.path / "workspace" / "go").touch()
        state = wait_final(directory)
        assert state["status"] == "succeeded"
        assert (directory.path / "logs" / "0.log").read_bytes() == b"went\n"
    finally:
        client.kill()
        for pid in processes_under(tmp_path):
            os.kill(pid, signal.SIGKILL)


def test_the_client_falls_back_to_spawning_when_the_fork_server_is_gone(tmp_path):
    client = WorkerClient(["ws://127.0.0.1:9/ws/master/"], "token", "w", {}, 2, tmp_path)
    first = create(client.runs_root, "first", [{"name": "true", "command": ["true"]}])
    client.start_executor(first)
    assert first.process is None and client.fork_server is not None
    assert wait_final(first)["status"] == "succeeded"

    client.fork_server.process.kill()
    client.fork_server.process.wait()
    second = create(client.runs_root, "second", [{"name": "true", "command": ["true"]}])
    client.start_executor(second)
    assert second.process is not None  # a fresh interpreter
    assert not client.use_fork_server and client.fork_server is None
    assert wait_final(second)["status"] == "succeeded"
    second.process.wait(timeout=10)


@pytest.mark.e2e
def test_a_worker_client_killed_while_a_forked_executor_runs_finds_the_run_finished(tmp_path):
    orchestra = Orchestra(tmp_path, configuration="tests.e2e.configuration")
    try:
        orchestra.start_master()
        worker = orchestra.start_worker("forking")
        run = orchestra.trigger("resilience", "numbered", {"lines": 20000})
        orchestra.wait_for_run(run["identifier"], statuses=("running",), timeout=60)
        server = next(
            pid for pid in processes_under(orchestra.data_dir)
            if b"forkserver.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
            and f"PPid:\t{worker.pid}" in Path(f"/proc/{pid}/status").read_text()
        )

        os.kill(worker.pid, signal.SIGKILL)  # the client alone, not its process group
        worker.wait()
        orchestra.workers.pop("forking")
        wait_until(lambda: gone(server), what="end of the fork server")
        orchestra.start_worker("forking")

        finished = orchestra.wait_for_run(run["identifier"], timeout=90)
        assert finished["status"] == "succeeded", finished
        assert orchestra.log(run["identifier"]).count(b"\n") == 20000
    finally:
        orchestra.stop()
