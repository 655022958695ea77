"""Issue 11: retries and lost workers, with real masters, workers and executors."""

import os
import signal

import pytest

from tests.e2e.harness import Orchestra, poll, processes_under

pytestmark = pytest.mark.e2e


def test_a_flaky_run_and_its_two_retries_are_linked_and_the_last_succeeds(tmp_path):
    orchestra = Orchestra(tmp_path, configuration="tests.e2e.configuration")
    try:
        orchestra.start_master()
        orchestra.start_worker("steady")
        counter = tmp_path / "attempts"
        first = orchestra.trigger("examples", "flaky", {"path": str(counter)})["identifier"]
        chain = [orchestra.wait_for_run(first)]
        while chain[-1]["status"] != "succeeded":
            assert chain[-1]["status"] == "failed", chain[-1]
            retries = poll(lambda: orchestra.run(chain[-1]["identifier"])["retries"], 30,
                           lambda: f"{chain[-1]['identifier']} was not retried")
            assert len(retries) == 1 and retries[0]["attempt"] == len(chain) + 1
            chain.append(orchestra.wait_for_run(retries[0]["identifier"]))
            assert chain[-1]["retry_of"] == chain[-2]["identifier"]
        assert [run["attempt"] for run in chain] == [1, 2, 3]
        assert [run["status"] for run in chain] == ["failed", "failed", "succeeded"]
        assert counter.read_text() == "attempt\n" * 3
        assert orchestra.run(chain[-1]["identifier"])["retries"] == []
        # The delay doubles: 1 s before the first retry, 2 s before the second.
        assert [run["not_before"] is not None for run in chain] == [False, True, True]
    finally:
        orchestra.stop()


def test_runs_of_a_worker_that_never_returns_end_exception_and_are_retried_elsewhere(tmp_path):
    orchestra = Orchestra(tmp_path, configuration="tests.e2e.configuration",
                          env={"ORCHESTRA_WORKER_LOST_AFTER": "3"})
    try:
        orchestra.start_master()
        doomed_disk = tmp_path / "doomed"
        orchestra.start_worker("doomed", data_dir=doomed_disk)
        orchestra.wait_for_workers("doomed")
        first = orchestra.trigger("resilience", "slow-once", {"path": str(tmp_path / "mark")})
        poll(lambda: orchestra.run(first["identifier"])["status"] == "running", 30,
             lambda: "the first attempt never started")
        orchestra.kill_worker("doomed")
        for pid in processes_under(doomed_disk):
            os.kill(pid, signal.SIGKILL)  # the machine is gone, its executors with it

        ended = orchestra.wait_for_run(first["identifier"], timeout=30)
        assert (ended["status"], ended["status_message"]) == (
            "exception", "worker doomed lost: disconnected for more than 3 s")
        (retry,) = ended["retries"]
        orchestra.start_worker("spare")
        finished = orchestra.wait_for_run(retry["identifier"], timeout=30)
        assert (finished["status"], finished["worker"], finished["attempt"]) == ("succeeded", "spare", 2)
        assert orchestra.log(retry["identifier"]) == b"again\n"
    finally:
        orchestra.stop()
