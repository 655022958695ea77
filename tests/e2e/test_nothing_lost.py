"""Issue 3: once a worker accepted a run, its status, every log byte and its results reach the
master exactly once, whatever happens to the worker client, the master or the network."""

import os
import signal
import time

import pytest

from tests.e2e.configuration import numbered_lines
from tests.e2e.harness import Orchestra, poll, processes_under
from tests.e2e.proxy import CuttableProxy

pytestmark = pytest.mark.e2e
CONFIGURATION = "tests.e2e.configuration"  # the `orchestra` fixture's (tests/e2e/conftest.py)

LINES = 80000  # 60 bytes each: 4.8 MB, printed over about 4 seconds


def wait_for_log_bytes(orchestra: Orchestra, identifier: str, minimum: int = 1, timeout: float = 60) -> None:
    """Wait until the master holds part of the log (the run is streaming)."""
    deadline = time.monotonic() + timeout
    while True:
        run = orchestra.run(identifier)
        if run["steps"][0]["log_size"] >= minimum:
            assert run["status"] == "running", run
            return
        assert time.monotonic() < deadline, f"no log arrived: {run}"
        time.sleep(0.05)


def wait_until_the_worker_holds_more(orchestra: Orchestra, worker: str, identifier: str,
                                     margin: int = 200_000, timeout: float = 30) -> None:
    """Wait until the executor wrote `margin` bytes the master lacks: it ran on unobserved."""
    on_worker = orchestra.data_dir / f"worker-{worker}" / "runs" / identifier / "logs" / "0.log"
    on_master = orchestra.data_dir / "logs" / identifier[:2] / identifier / "0.log"
    poll(lambda: on_worker.stat().st_size >= on_master.stat().st_size + margin, timeout,
         lambda: "the executor stopped writing", interval=0.05)


def assert_complete(orchestra: Orchestra, identifier: str) -> None:
    run = orchestra.wait_for_run(identifier, timeout=90)
    assert run["status"] == "succeeded", run
    log = orchestra.log(identifier)
    expected = numbered_lines(LINES)
    assert len(log) == len(expected)
    assert log == expected
    assert run["steps"][0]["log_size"] == len(expected)


def test_worker_client_killed_mid_run_resumes_byte_for_byte(orchestra):
    orchestra.start_worker("crashy")
    run = orchestra.trigger("resilience", "numbered", {"lines": LINES})
    wait_for_log_bytes(orchestra, run["identifier"])

    orchestra.kill_worker("crashy")
    wait_until_the_worker_holds_more(orchestra, "crashy", run["identifier"])
    orchestra.start_worker("crashy")

    assert_complete(orchestra, run["identifier"])


def test_master_killed_mid_run_resumes_byte_for_byte(orchestra_on_each_database):
    orchestra = orchestra_on_each_database
    orchestra.start_worker("steady")
    run = orchestra.trigger("resilience", "numbered", {"lines": LINES})
    wait_for_log_bytes(orchestra, run["identifier"])

    orchestra.kill_master()
    wait_until_the_worker_holds_more(orchestra, "steady", run["identifier"])
    orchestra.start_master()

    assert_complete(orchestra, run["identifier"])


def test_connection_cut_and_restored_resumes_without_duplicates(orchestra_on_each_database):
    orchestra = orchestra_on_each_database
    proxy = CuttableProxy(orchestra.port)
    try:
        orchestra.start_worker("far-away", master_url=f"ws://127.0.0.1:{proxy.port}/ws/master/")
        run = orchestra.trigger("resilience", "numbered", {"lines": LINES})
        wait_for_log_bytes(orchestra, run["identifier"])

        proxy.cut()
        wait_until_the_worker_holds_more(orchestra, "far-away", run["identifier"])
        proxy.restore()

        assert_complete(orchestra, run["identifier"])
    finally:
        proxy.close()
    # The worker connected more than once, and every chunk was stored once (the byte-for-byte
    # comparison above would show a repeated or missing chunk).
    assert orchestra.output("master").count("worker far-away connected") >= 2


def test_abort_of_a_running_run_ends_it_aborted(orchestra):
    orchestra.start_worker("abortable")
    run = orchestra.trigger("resilience", "sleep")
    wait_for_log_bytes(orchestra, run["identifier"])

    status, _ = orchestra.api("POST", f"/api/runs/{run['identifier']}/abort")
    assert status in (200, 202)

    finished = orchestra.wait_for_run(run["identifier"], timeout=30)
    assert finished["status"] == "aborted"
    assert finished["steps"][0]["status"] == "aborted"
    assert orchestra.log(run["identifier"]).startswith(b"sleeping\n")


def test_abort_of_a_pending_run_cancels_it(orchestra):
    run = orchestra.trigger("resilience", "unmatched")
    status, _ = orchestra.api("POST", f"/api/runs/{run['identifier']}/abort")
    assert status in (200, 202)
    assert orchestra.run(run["identifier"])["status"] == "cancelled"


def test_abort_while_the_worker_is_disconnected_is_delivered_on_reconnection(orchestra):
    orchestra.start_worker("sleepy")
    run = orchestra.trigger("resilience", "sleep")
    wait_for_log_bytes(orchestra, run["identifier"])
    orchestra.kill_worker("sleepy")

    status, _ = orchestra.api("POST", f"/api/runs/{run['identifier']}/abort")
    assert status in (200, 202)
    assert orchestra.run(run["identifier"])["status"] == "running"  # until its worker says so

    orchestra.start_worker("sleepy")
    finished = orchestra.wait_for_run(run["identifier"], timeout=30)
    assert finished["status"] == "aborted"


def test_worker_returning_without_an_expected_run_ends_it_exception(orchestra, tmp_path):
    first_disk = tmp_path / "first-disk"
    orchestra.start_worker("amnesiac", data_dir=first_disk)
    run = orchestra.trigger("resilience", "sleep")
    wait_for_log_bytes(orchestra, run["identifier"])
    orchestra.kill_worker("amnesiac")
    for pid in processes_under(first_disk):
        os.kill(pid, signal.SIGKILL)  # the disk is lost, and the executor with it

    orchestra.start_worker("amnesiac", data_dir=tmp_path / "new-disk")
    finished = orchestra.wait_for_run(run["identifier"], timeout=30)
    assert finished["status"] == "exception"
    assert "reconnected without this run" in finished["status_message"]
