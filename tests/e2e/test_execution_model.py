"""Issue 4 end to end: results between steps, worker matching, pipelines and schedules.

One installation for the whole module (starting processes dominates the cost): a master whose
own scheduler pass is an hour away, so the test drives ticks with `tick_schedules --now`.
"""

import time

import pytest

from tests.e2e.harness import Orchestra

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    orchestra = Orchestra(
        tmp_path_factory.mktemp("execution-model"),
        configuration="tests.e2e.execution_configuration",
        env={"ORCHESTRA_SCHEDULER_SECONDS": "3600"},
    )
    try:
        orchestra.start_master()
        orchestra.start_worker("general")
        orchestra.start_worker("special", properties={"pool": "special"})
        yield orchestra
    finally:
        orchestra.stop()


def runs(orchestra, **filters) -> list[dict]:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    status, body = orchestra.api("GET", f"/api/runs?{query}&page_size=100")
    assert status == 200, body
    return body["results"] if isinstance(body, dict) else body


def test_second_step_uses_the_result_of_the_first(installation):
    run = installation.trigger("examples", "results-chain")
    finished = installation.wait_for_run(run["identifier"])
    assert finished["status"] == "succeeded", finished
    assert finished["results"] == {"answer": 42}
    assert installation.log(run["identifier"], step=1) == b"The answer is 42\n"


def test_workers_get_only_the_jobs_their_properties_match(installation):
    special = [installation.trigger("examples", "special-pool") for _ in range(3)]
    anywhere = [installation.trigger("examples", "hello") for _ in range(3)]
    for run in special:
        finished = installation.wait_for_run(run["identifier"])
        assert finished["status"] == "succeeded"
        assert finished["worker"] == "special"
        assert installation.log(run["identifier"]) == b"Hello from the special pool: special\n"
    for run in anywhere:
        finished = installation.wait_for_run(run["identifier"])
        assert finished["status"] == "succeeded"
        assert installation.log(run["identifier"]) == f"Hello from {finished['worker']}\n".encode()
    assert all(run["worker"] == "special" for run in runs(installation, job="special-pool"))


def element_statuses(installation, pipeline: dict) -> dict:
    children = runs(installation, parent=pipeline["identifier"])
    return {child["pipeline_element"]: child["status"] for child in children}


def test_diamond_pipeline_succeeds(installation):
    pipeline = installation.trigger("examples", "pipeline-diamond")
    finished = installation.wait_for_run(pipeline["identifier"])
    assert finished["status"] == "succeeded", finished
    assert element_statuses(installation, pipeline) == {
        "a": "succeeded", "b": "succeeded", "c": "succeeded", "d": "succeeded"
    }


def test_pipeline_with_a_failing_branch(installation):
    pipeline = installation.trigger("examples", "pipeline-failure")
    finished = installation.wait_for_run(pipeline["identifier"])
    assert finished["status"] == "failed", finished
    assert element_statuses(installation, pipeline) == {
        "a": "succeeded", "b": "succeeded", "c": "failed", "d": "skipped"
    }
    status, page = installation.api("GET", f"/runs/{pipeline['identifier']}/")
    assert status == 200
    assert "<svg" in page and 'data-element="d"' in page


def test_aborting_a_pipeline_aborts_its_running_child_and_cancels_the_rest(installation):
    pipeline = installation.trigger("e2e", "abortable")
    deadline = time.monotonic() + 60
    while element_statuses(installation, pipeline).get("first") != "running":
        assert time.monotonic() < deadline, element_statuses(installation, pipeline)
        time.sleep(0.1)
    status, body = installation.api("POST", f"/api/runs/{pipeline['identifier']}/abort")
    assert status in (200, 202), body
    finished = installation.wait_for_run(pipeline["identifier"])
    assert finished["status"] == "aborted", finished
    assert element_statuses(installation, pipeline) == {"first": "aborted", "second": "cancelled"}


def ticks(installation, *times: str) -> list[int]:
    """One scheduler pass per time, in order; how many runs each triggered."""
    arguments = [argument for time in times for argument in ("--now", time)]
    output = installation.manage("tick_schedules", *arguments)
    return [int(line.split()[-1]) for line in output.strip().splitlines()]


def test_schedule_triggers_once_per_tick_and_never_twice_concurrently(installation):
    triggered = ticks(
        installation,
        "2030-01-01T10:00:30+00:00",  # first sight: recorded without a run
        "2030-01-01T10:01:05+00:00",  # the 10:01 tick
        "2030-01-01T10:01:40+00:00",  # the same tick again
        # No worker takes `gated` yet: the 10:01 run is pending, so this tick passes.
        "2030-01-01T10:02:00+00:00",
    )
    assert triggered == [0, 1, 0, 0]
    (first,) = runs(installation, job="gated")
    assert first["source"] == "schedule" and first["status"] == "pending"

    installation.start_worker("gated", properties={"pool": "gated"})
    assert installation.wait_for_run(first["identifier"])["status"] == "succeeded"
    assert ticks(installation, "2030-01-01T10:03:00+00:00") == [1]
    gated = runs(installation, job="gated")
    assert len(gated) == 2
    for run in gated:
        finished = installation.wait_for_run(run["identifier"])
        assert finished["status"] == "succeeded" and finished["worker"] == "gated"
