"""The executor as the worker client starts it: a lean, detached interpreter per run."""

import json
import os
import signal
import time
from pathlib import Path

from workers import executor as executor_module
from workers.client.rundir import FINAL_STATUSES, START_TIMEOUT_SECONDS, RunDirectory
from workers.executor import Executor


def start(tmp_path, steps, parameters=None, **extra):
    request = {
        "identifier": "run0001", "project": "p", "job": "j", "worker": "w",
        "parameters": parameters or {}, "steps": steps, **extra,
    }
    directory = RunDirectory.create(tmp_path, request)
    directory.start_executor()
    return directory


def wait_until(condition, what, timeout=20):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.05)


def wait_final(directory, timeout=20):
    wait_until(lambda: (directory.state() or {}).get("status") in FINAL_STATUSES, "final state", timeout)
    directory.process.wait(timeout=5)
    return directory.state()


def wait_step_started(directory):
    wait_until(lambda: ((directory.state() or {}).get("steps") or [{}])[0].get("pid"), "step started")


def gone(pid):
    """Ended: no such process, or a zombie its parent has not reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def log(directory, index):
    return (directory.path / "logs" / f"{index}.log").read_bytes()


def test_steps_run_in_order_with_their_results_merged(tmp_path):
    directory = start(tmp_path, [
        {"name": "write", "command": ["sh", "-c", 'echo \'{{"a": 1}}\' > "$ORCHESTRA_RESULTS_FILE"; echo out; echo err >&2']},
        {"name": "read", "command": ["echo", "a={results[a]}", "n={n}", "{parameters[n]}"]},
    ], parameters={"n": 7})
    state = wait_final(directory)
    assert state["status"] == "succeeded"
    assert state["results"] == {"a": 1}
    assert [step["status"] for step in state["steps"]] == ["succeeded", "succeeded"]
    assert log(directory, 0) == b"out\nerr\n"
    assert log(directory, 1) == b"a=1 n=7 7\n"
    assert state["steps"][1]["log_size"] == len(log(directory, 1))


def test_a_missing_key_ends_the_run_exception_without_running_anything(tmp_path):
    marker = tmp_path / "ran"
    directory = start(tmp_path, [
        {"name": "touch", "command": ["touch", str(marker), "{no_such_parameter}"]},
        {"name": "never", "command": ["touch", str(marker)]},
    ])
    state = wait_final(directory)
    assert state["status"] == "exception"
    assert "no_such_parameter" in state["message"]
    assert b"no value for key 'no_such_parameter'" in log(directory, 0)
    assert [step["status"] for step in state["steps"]] == ["exception", "cancelled"]
    assert not marker.exists()


def test_a_failing_step_fails_the_run_and_cancels_the_rest(tmp_path):
    directory = start(tmp_path, [
        {"name": "fail", "command": ["sh", "-c", "exit 3"]},
        {"name": "never", "command": ["true"]},
    ])
    state = wait_final(directory)
    assert state["status"] == "failed"
    assert state["steps"][0]["exit_code"] == 3
    assert state["steps"][1]["status"] == "cancelled"


def test_abort_terminates_the_step_process_group_then_kills_it(tmp_path):
    # The step ignores SIGTERM and has a child: both must be gone after the grace period.
    directory = start(tmp_path, [
        {"name": "stubborn", "command": [
            "sh", "-c", "trap '' TERM; sleep 300 & echo $! > child.pid; echo started; wait"]},
    ], abort_grace=1)
    workspace = directory.path / "workspace"
    wait_until(lambda: (workspace / "child.pid").exists() and log(directory, 0), "step started")
    child = int((workspace / "child.pid").read_text())
    directory.abort()
    state = wait_final(directory)
    assert state["status"] == "aborted"
    assert state["steps"][0]["status"] == "aborted"
    # SIGKILL is delivered asynchronously: the child goes soon after the executor ends.
    wait_until(lambda: gone(child), "end of the step's child")


def test_an_executor_killed_without_a_final_state_is_settled_as_exception(tmp_path):
    directory = start(tmp_path, [{"name": "sleep", "command": ["sleep", "300"]}])
    wait_step_started(directory)
    os.kill(directory.process.pid, signal.SIGKILL)
    directory.process.wait()
    state = directory.settle_dead_executor()
    assert state["status"] == "exception"
    assert "without a final status" in state["message"]
    # The orphaned step went with it.
    step = directory.state()["steps"][0]
    assert step["status"] == "exception"
    wait_until(lambda: gone(step["pid"]), "end of the orphaned step")


def test_an_abort_as_the_executor_starts_ends_the_run_aborted(tmp_path):
    directory = start(tmp_path, [{"name": "sleep", "command": ["sleep", "300"]}])
    directory.abort()
    directory.process.wait(timeout=20)
    state = directory.settle_dead_executor()
    assert state["status"] == "aborted"


def test_steps_do_not_see_the_worker_token_or_master_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRA_WORKER_TOKEN", "secret-token")
    monkeypatch.setenv("ORCHESTRA_DATABASE_URL", "postgresql://user:password@db/orchestra")
    monkeypatch.setenv("ORCHESTRA_SECRET_KEY_FILE", "/etc/orchestra/key")
    monkeypatch.setenv("VISIBLE", "yes")
    directory = start(tmp_path, [{"name": "env", "command": [
        "sh", "-c", "echo ${{ORCHESTRA_WORKER_TOKEN:-none}} ${{ORCHESTRA_DATABASE_URL:-none}} "
        "${{ORCHESTRA_SECRET_KEY_FILE:-none}} $VISIBLE {environment[VISIBLE]}"]}])
    assert wait_final(directory)["status"] == "succeeded"
    assert log(directory, 0) == b"none none none yes yes\n"


class FinishingBetweenReads(RunDirectory):
    """A run directory whose executor finishes right after the first look at it.

    The first call to `state` or `executor_alive`, whichever comes first, returns what it saw;
    then the step is released and the executor writes its final state and exits before the
    next call: the interleaving that lost one run in 800 under load, made certain.
    """

    def __init__(self, path, release):
        super().__init__(path)
        self.release = release

    def state(self):
        seen = super().state()
        self.finish()
        return seen

    def executor_alive(self):
        seen = super().executor_alive()
        self.finish()
        return seen

    def finish(self):
        if self.release is not None:
            release, self.release = self.release, None
            release()


def test_an_executor_that_finishes_while_it_is_being_checked_keeps_its_final_state(tmp_path):
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    directory = start(tmp_path, [{"name": "wait", "command": ["cat", str(gate)]}])
    wait_step_started(directory)

    def release():
        # The step reads end of file and succeeds; the executor saves its final state and exits.
        os.close(os.open(gate, os.O_WRONLY))
        directory.process.wait(timeout=20)

    checked = FinishingBetweenReads(directory.path, release)
    checked.process = directory.process
    seen = checked.settle_dead_executor()
    assert checked.release is None
    final = checked.settle_dead_executor()
    assert final["status"] == "succeeded"
    assert directory.state()["status"] == "succeeded"
    assert directory.state()["steps"][0]["status"] == "succeeded"
    assert seen["status"] in ("running", "succeeded")


def test_an_executor_whose_pid_file_was_never_written_is_found_by_the_pid_in_its_state(tmp_path):
    # The client that started it died before writing executor.pid, long enough ago for the
    # start timeout to have passed; a restarted client must still see the executor running.
    directory = start(tmp_path, [{"name": "sleep", "command": ["sleep", "300"]}])
    wait_step_started(directory)
    (directory.path / "executor.pid").unlink()
    long_ago = time.time() - START_TIMEOUT_SECONDS - 1
    os.utime(directory.path / "run.json", (long_ago, long_ago))
    restarted = RunDirectory(directory.path)
    assert restarted.executor_alive()
    assert restarted.settle_dead_executor()["status"] == "running"
    restarted.abort()
    assert wait_final(directory)["status"] == "aborted"


# Bounds ---------------------------------------------------------------------------------------

# A step that ignores SIGTERM, as its child does (an ignored signal stays ignored across exec):
# only the SIGKILL after the grace period ends them.
STUBBORN = "trap '' TERM; sleep 300 & echo $! > child.pid; echo started; wait"


def duration(step):
    return step["completed"] - step["started"]


def last_line(directory, index):
    return log(directory, index).splitlines()[-1].decode()


def test_a_step_past_its_timeout_is_ended_with_its_process_group_and_fails_the_run(tmp_path):
    directory = start(tmp_path, [
        {"name": "stubborn", "command": ["sh", "-c", STUBBORN], "timeout": 1},
        {"name": "never", "command": ["true"]},
    ], abort_grace=1)
    state = wait_final(directory)
    message = "step 'stubborn' exceeded its timeout of 1 s"
    assert (state["status"], state["message"]) == ("failed", message)
    assert [step["status"] for step in state["steps"]] == ["failed", "cancelled"]
    assert state["steps"][0]["exit_code"] == -signal.SIGKILL
    # Ended once the limit and the grace period had passed, not before.
    assert duration(state["steps"][0]) >= 2
    assert last_line(directory, 0) == f"[orchestra] {message}"
    child = int((directory.path / "workspace" / "child.pid").read_text())
    wait_until(lambda: gone(child) and gone(state["steps"][0]["pid"]), "end of the step's process group")


def test_the_jobs_timeout_counts_from_the_start_of_the_run_across_steps(tmp_path):
    directory = start(tmp_path, [
        {"name": "first", "command": ["sleep", "1"]},
        {"name": "second", "command": ["sh", "-c", "sleep 300 & echo $! > child.pid; wait"]},
    ], timeout=3)
    state = wait_final(directory)
    message = "step 'second' exceeded the job's timeout of 3 s"
    assert (state["status"], state["message"]) == ("failed", message)
    first, second = state["steps"]
    assert (first["status"], second["status"]) == ("succeeded", "failed")
    assert second["exit_code"] == -signal.SIGTERM
    # The second step had less than the whole timeout: the first one used some of it.
    assert duration(second) < 3 <= second["completed"] - state["started"]
    assert log(directory, 0) == b""
    assert last_line(directory, 1) == f"[orchestra] {message}"
    child = int((directory.path / "workspace" / "child.pid").read_text())
    wait_until(lambda: gone(child), "end of the step's child")


def test_a_run_already_past_the_jobs_timeout_does_not_start_its_next_step(tmp_path):
    marker = tmp_path / "ran"
    directory = RunDirectory.create(tmp_path, {
        "identifier": "run0001", "project": "p", "job": "j", "worker": "w", "parameters": {},
        "timeout": 3, "steps": [{"name": "touch", "command": ["touch", str(marker)]}],
    })
    executor = Executor(str(directory.path))
    # The run began 3 s ago: the time a step racing its deadline to the end could leave.
    executor.started_monotonic -= 3
    previous = signal.getsignal(signal.SIGTERM)
    try:
        executor.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    state = directory.state()
    message = "the run exceeded the job's timeout of 3 s before step 'touch' started"
    assert (state["status"], state["message"]) == ("failed", message)
    assert state["steps"][0]["status"] == "failed"
    assert last_line(directory, 0) == f"[orchestra] {message}"
    assert not marker.exists()


def test_output_resets_the_silence_timeout_and_silence_ends_the_step(tmp_path):
    directory = start(tmp_path, [
        # Silent for 2.5 s, but its own silence timeout replaces the job's.
        {"name": "patient", "command": ["sh", "-c", "sleep 2.5; echo done"], "silence_timeout": 5},
        # Talks every 0.5 s for 3 s: longer than the silence timeout, never silent that long.
        {"name": "talkative", "command": ["sh", "-c", "for i in 1 2 3 4 5 6; do echo $i; sleep 0.5; done"]},
        {"name": "quiet", "command": ["sh", "-c", "echo one line; sleep 300 & echo $! > child.pid; wait"]},
    ], silence_timeout=2)
    state = wait_final(directory, timeout=40)
    message = "step 'quiet' printed nothing for 2 s (silence_timeout)"
    assert (state["status"], state["message"]) == ("failed", message)
    assert [step["status"] for step in state["steps"]] == ["succeeded", "succeeded", "failed"]
    assert duration(state["steps"][1]) >= 3
    assert duration(state["steps"][2]) >= 2
    assert log(directory, 2) == f"one line\n[orchestra] {message}\n".encode()
    child = int((directory.path / "workspace" / "child.pid").read_text())
    wait_until(lambda: gone(child), "end of the step's child")


def test_an_abort_during_a_timeouts_grace_period_ends_the_run_aborted(tmp_path):
    directory = start(tmp_path, [{"name": "stubborn", "command": [
        "sh", "-c", "trap 'echo terminated' TERM; echo started; while :; do sleep 0.1; done"],
        "timeout": 1}], abort_grace=2)
    wait_step_started(directory)
    wait_until(lambda: b"terminated" in log(directory, 0), "SIGTERM at the timeout")
    directory.abort()
    state = wait_final(directory)
    assert (state["status"], state["message"]) == ("aborted", "aborted on request")
    assert state["steps"][0]["status"] == "aborted"
    assert last_line(directory, 0) == "[orchestra] aborted on request"


SECRET = "s3cr3t-Value-42"


def test_a_step_gets_its_secrets_in_its_environment_and_they_are_masked_everywhere(tmp_path):
    directory = start(tmp_path, [
        {"name": "leak", "command": ["python3", "-c", (
            "import json, os, sys, time\n"
            "token = os.environ['TOKEN']\n"
            "sys.stdout.write('half: ' + token[:7]); sys.stdout.flush(); time.sleep(0.5)\n"
            "print(token[7:] + ' end'); print('err', token, file=sys.stderr, flush=True)\n"
            "json.dump({{'token': token, token: 'key'}}, open(os.environ['ORCHESTRA_RESULTS_FILE'], 'w'))\n"
            "sys.exit('failing with ' + token)"
        )]},
    ], secrets={"TOKEN": SECRET})
    state = wait_final(directory)
    assert log(directory, 0) == b"half: *** end\nerr ***\nfailing with ***\n[orchestra] step 'leak' exited with status 1\n"
    assert state["results"] == {"token": "***", "***": "key"}
    assert state["status"] == "failed"
    # What the worker client streams: the logs and the state (the files a step writes itself,
    # its results file among them, are its own and leave with the run directory).
    streamed = [directory.path / "state.json", *directory.path.glob("logs/*")]
    assert all(SECRET.encode() not in path.read_bytes() for path in streamed)


def test_secrets_are_no_names_of_the_command(tmp_path):
    directory = start(tmp_path, [{"name": "s", "command": ["echo", "{environment[TOKEN]}"]}],
                      secrets={"TOKEN": SECRET})
    state = wait_final(directory)
    assert state["status"] == "exception"
    assert "no value for key 'TOKEN'" in state["message"]


def test_the_executor_removes_the_secrets_file_as_it_starts(tmp_path):
    directory = start(tmp_path, [{"name": "s", "command": ["sleep", "30"]}], secrets={"TOKEN": SECRET})
    wait_step_started(directory)
    assert not (directory.path / "secrets.json").exists()
    assert b"secrets" not in (directory.path / "run.json").read_bytes()
    directory.abort()
    assert wait_final(directory)["status"] == "aborted"


def test_a_step_that_leaves_a_process_holding_its_output_still_ends(tmp_path):
    directory = start(tmp_path, [
        {"name": "s", "command": ["sh", "-c", "echo $TOKEN; sleep 30 & echo started"]},
    ], secrets={"TOKEN": SECRET})
    state = wait_final(directory, timeout=20)
    assert state["status"] == "succeeded"
    assert log(directory, 0) == b"***\nstarted\n"


def test_the_executors_first_state_already_has_its_first_step_running(tmp_path, monkeypatch):
    """Nothing is saved before the first step starts: a state that said only "running" told
    nobody anything, and its fsync stood between the run's start and its first step's."""
    directory = RunDirectory.create(tmp_path, {
        "identifier": "run0001", "project": "p", "job": "j", "worker": "w", "parameters": {},
        "steps": [{"name": "only", "command": ["true"]}],
    })
    saved = []
    write = executor_module.write_json_atomically
    monkeypatch.setattr(executor_module, "write_json_atomically",
                        lambda path, data: saved.append(json.loads(json.dumps(data))) or write(path, data))
    Executor(str(directory.path)).run()
    assert saved[0]["steps"][0]["status"] == "running"
    assert saved[-1]["status"] == "succeeded"
