"""Issue 2: a configured job runs end to end through master, worker client and executor."""

import pytest

pytestmark = pytest.mark.e2e


def test_example_jobs_run_end_to_end(orchestra_on_each_database):
    orchestra = orchestra_on_each_database
    orchestra.start_worker("skeleton-worker")

    hello = orchestra.trigger("examples", "hello")
    results = orchestra.trigger("examples", "results")
    fail = orchestra.trigger("examples", "fail")

    finished = orchestra.wait_for_run(hello["identifier"])
    assert finished["status"] == "succeeded"
    assert orchestra.log(hello["identifier"]) == b"Hello from skeleton-worker\n"

    finished = orchestra.wait_for_run(results["identifier"])
    assert finished["status"] == "succeeded"
    assert finished["results"] == {"answer": 42}

    finished = orchestra.wait_for_run(fail["identifier"])
    assert finished["status"] == "failed"
    assert b"failing on purpose" in orchestra.log(fail["identifier"])

    status, workers = orchestra.api("GET", "/api/workers")
    assert status == 200
    listed = workers["results"] if isinstance(workers, dict) else workers
    assert [worker["identifier"] for worker in listed] == ["skeleton-worker"]
