"""Worker client pieces that need no master: independence from Django, retry delays, log cuts."""

import os
import subprocess
import sys
from pathlib import Path

from workers.client.streaming import HeldRun
from workers.client.rundir import RunDirectory

ROOT = Path(__file__).resolve().parents[2]


def test_worker_client_and_executor_import_no_django():
    check = (
        "import sys, workers.client.__main__, workers.executor; "
        "sys.exit('django' in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", check], cwd=ROOT, check=True)


def test_a_run_the_master_fails_to_store_waits_from_a_tenth_of_a_second_up_to_thirty(tmp_path):
    held = HeldRun(RunDirectory.create(tmp_path, {"identifier": "r1", "steps": []}))
    delays = [held.back_off() for _ in range(20)]
    assert 0.05 <= delays[0] <= 0.1
    assert all(15 <= delay <= 30 for delay in delays[12:])
    held.stored()
    assert held.back_off() <= 0.1


def test_log_reads_stop_at_the_last_whole_line_while_a_step_runs(tmp_path):
    directory = RunDirectory.create(tmp_path, {"identifier": "r1", "steps": []})
    (directory.path / "logs").mkdir()
    (directory.path / "logs" / "0.log").write_bytes(b"one\ntwo\nthr")
    assert directory.read_log(0, 0, 100, whole_lines=True) == b"one\ntwo\n"
    assert directory.read_log(0, 8, 100, whole_lines=True) == b""
    assert directory.read_log(0, 8, 100, whole_lines=False) == b"thr"
    # A line longer than a chunk goes in pieces rather than never.
    assert directory.read_log(0, 8, 2, whole_lines=True) == b"th"
    assert directory.read_log(0, 0, 6, whole_lines=True) == b"one\n"


def test_run_directories_are_rediscovered(tmp_path):
    RunDirectory.create(tmp_path, {"identifier": "aaa", "steps": []})
    RunDirectory.create(tmp_path, {"identifier": "bbb", "steps": []})
    (tmp_path / "not-a-run").mkdir()
    assert [directory.identifier for directory in RunDirectory.discover(tmp_path)] == ["aaa", "bbb"]


def test_a_run_directory_whose_request_never_reached_the_disk_is_removed(tmp_path):
    RunDirectory.create(tmp_path, {"identifier": "aaa", "steps": []})
    # The machine went down before the request was durable: its file is empty, or cut short.
    for identifier, written in (("bbb", b""), ("ccc", b'{"identifier": "ccc", "st')):
        (tmp_path / identifier).mkdir()
        (tmp_path / identifier / "run.json").write_bytes(written)
    assert [directory.identifier for directory in RunDirectory.discover(tmp_path)] == ["aaa"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["aaa"]


def test_a_runs_request_goes_to_disk_while_its_executor_starts_and_before_the_answer(
    tmp_path, monkeypatch
):
    from workers.client import connection, rundir

    happened = []
    real_fsync = os.fsync

    def fsync(descriptor):
        happened.append(f"fsync {os.path.basename(os.readlink(f'/proc/self/fd/{descriptor}'))}")
        real_fsync(descriptor)

    monkeypatch.setattr(rundir.os, "fsync", fsync)
    client = connection.WorkerClient(["ws://127.0.0.1:9/ws/master/"], "token", "w1", {}, 1,
                                     tmp_path, fork_server=False)
    monkeypatch.setattr(client, "start_executor", lambda directory: happened.append("executor"))
    answer = client.start_run({"identifier": "r1", "project": "p", "job": "j", "steps": []})
    happened.append(answer["type"])
    assert happened == ["executor", "fsync run.json", "response"]


def test_a_second_client_on_the_same_data_directory_refuses_to_start(tmp_path, capsys):
    import fcntl

    from workers.client.__main__ import run

    with open(tmp_path / "worker.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        status = run("ws://127.0.0.1:9/ws/master/", "token", "w1", [], 1, tmp_path)
    assert status == 1
    assert "another worker client" in capsys.readouterr().err


def test_an_unreadable_token_file_stops_the_client_naming_the_variable(tmp_path, monkeypatch, capsys):
    from workers.client.__main__ import run

    monkeypatch.delenv("ORCHESTRA_WORKER_TOKEN", raising=False)
    monkeypatch.setenv("ORCHESTRA_WORKER_TOKEN_FILE", str(tmp_path / "missing"))
    status = run("ws://127.0.0.1:9/ws/master/", None, "w1", [], 1, tmp_path)
    assert status == 2
    assert f"ORCHESTRA_WORKER_TOKEN_FILE: cannot read {tmp_path / 'missing'}" in capsys.readouterr().err
