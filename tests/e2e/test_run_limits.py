"""Concurrency limits, resources and priorities hold with real masters and workers
(docs/configuration.md, "Bounding runs")."""

from datetime import datetime

import pytest

from tests.e2e.harness import Orchestra, poll
from tests.e2e.test_scale_out import redis_reachable
from tests.postgres import postgres_database  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
CONFIGURATION = "tests.e2e.configuration"  # the `orchestra` fixture's (tests/e2e/conftest.py)


def moment(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def overlaps(runs: list[dict]) -> list[tuple[str, str]]:
    """Pairs of runs that were on workers at the same time, from their own times."""
    spans = sorted((moment(run["started"]), moment(run["completed"]), run["identifier"]) for run in runs)
    return [
        (first[2], second[2])
        for index, first in enumerate(spans)
        for second in spans[index + 1:]
        if second[0] < first[1]
    ]


def finished(orchestra: Orchestra, identifiers: list[str], url: str | None = None) -> list[dict]:
    runs = [orchestra.wait_for_run(identifier, timeout=90) for identifier in identifiers]
    assert [run["status"] for run in runs] == ["succeeded"] * len(runs), runs
    return runs


def test_runs_of_a_job_limited_to_one_never_overlap_on_two_workers(orchestra):
    orchestra.start_worker("left", executors=2)
    orchestra.start_worker("right", executors=2)
    orchestra.wait_for_workers("left", "right")
    triggered = [orchestra.trigger("examples", "exclusive", {"seconds": 0.3})["identifier"] for _ in range(8)]
    waiting = orchestra.run(triggered[-1])
    assert waiting["status"] == "pending"
    assert waiting["waiting_reason"] == "The job's limit of 1 concurrent run(s) is reached."
    runs = finished(orchestra, triggered)
    assert overlaps(runs) == []
    assert {run["worker"] for run in runs} <= {"left", "right"}


def test_jobs_holding_one_resource_never_overlap(orchestra):
    orchestra.start_worker("left", executors=2)
    orchestra.start_worker("right", executors=2)
    orchestra.wait_for_workers("left", "right")
    triggered = [
        orchestra.trigger("examples", job)["identifier"]
        for job in ("deploy-a", "deploy-b", "deploy-a", "deploy-b")
    ]
    reason = orchestra.run(triggered[1])["waiting_reason"]
    assert reason == "Resource deploy-prod busy."
    assert overlaps(finished(orchestra, triggered)) == []


def test_a_higher_priority_run_starts_before_earlier_ones(orchestra):
    orchestra.start_worker("single", executors=1)
    busy = orchestra.trigger("examples", "sleepy", {"seconds": 1})["identifier"]
    poll(lambda: orchestra.run(busy)["status"] == "running", 30, lambda: "the first run never started")
    ordinary = [orchestra.trigger("examples", "hello")["identifier"] for _ in range(3)]
    status, urgent = orchestra.api("POST", "/api/projects/examples/jobs/hello/trigger", {"priority": 10})
    assert status == 201 and urgent["priority"] == 10
    assert orchestra.run(ordinary[0])["waiting_reason"] == (
        "Queued behind 1 run(s) for the same workers, which are all busy.")
    runs = finished(orchestra, [urgent["identifier"], *ordinary])
    starts = [moment(run["started"]) for run in runs]
    assert starts == sorted(starts), [run["identifier"] for run in runs]


@pytest.mark.postgres
@pytest.mark.redis
def test_the_limit_holds_with_two_masters(tmp_path, postgres_database):  # noqa: F811
    if not redis_reachable():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    orchestra = Orchestra(tmp_path, configuration="tests.e2e.configuration", env={
        "ORCHESTRA_DATABASE_URL": postgres_database,
        "ORCHESTRA_REDIS_URL": "redis://127.0.0.1:6379/0",
    })
    try:
        orchestra.start_master()
        second = orchestra.start_extra_master()
        orchestra.start_worker("on-first", executors=2)
        orchestra.start_worker("on-second", executors=2,
                               master_url=second.replace("http", "ws") + "/ws/master/")
        orchestra.wait_for_workers("on-first", "on-second")
        triggered = []
        for index in range(6):
            status, run = orchestra.api(
                "POST", "/api/projects/examples/jobs/exclusive/trigger",
                {"parameters": {"seconds": 0.3}}, url=second if index % 2 else None,
            )
            assert status == 201, run
            triggered.append(run["identifier"])
        runs = finished(orchestra, triggered)
        assert overlaps(runs) == []
        assert {run["worker"] for run in runs} == {"on-first", "on-second"}
    finally:
        orchestra.stop()
