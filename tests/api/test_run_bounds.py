"""The service's view of bounded runs: marking a run exception, retries, priorities, limits."""

from orchestra.models import AuditEvent
from runs.models import Run, Status
from tests.api.conftest import make_run


def test_an_operator_marks_a_running_run_exception_once(service, catalogue):
    running = make_run(catalogue["hello"], status=Status.RUNNING, worker=catalogue["worker"])
    assert service("viewer").post(f"/api/runs/{running.identifier}/mark-exception").status_code == 403
    response = service("operator").post(f"/api/runs/{running.identifier}/mark-exception")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_message"]) == (
        "exception", f"marked as exception by operator-user ({catalogue['worker'].identifier} lost)")
    again = service("operator").post(f"/api/runs/{running.identifier}/mark-exception")
    assert again.status_code == 409
    assert again.json()["error"] == f"run {running.identifier} already ended exception"
    assert list(AuditEvent.objects.filter(action="run.mark_exception").values_list("target", flat=True)) == [
        running.identifier]


def test_retries_are_linked_both_ways_and_filterable(service, catalogue):
    first = make_run(catalogue["hello"], status=Status.EXCEPTION)
    second = make_run(catalogue["hello"], status=Status.SUCCEEDED, retry_of=first, attempt=2)
    other = make_run(catalogue["hello"])
    viewer = service("viewer")
    detail = viewer.get(f"/api/runs/{first.identifier}").json()
    assert detail["retries"] == [{"identifier": second.identifier, "attempt": 2, "status": "succeeded"}]
    assert viewer.get(f"/api/runs/{second.identifier}").json()["retry_of"] == first.identifier
    listed = viewer.get(f"/api/runs?retry_of={first.identifier}").json()["results"]
    assert [run["identifier"] for run in listed] == [second.identifier]
    firsts = viewer.get("/api/runs?attempt=1&ordering=created").json()["results"]
    assert [run["identifier"] for run in firsts] == [
        run.identifier for run in Run.objects.filter(attempt=1).order_by("created", "id")]
    assert other.identifier in [run["identifier"] for run in firsts]


def test_a_trigger_may_give_a_priority_within_bounds(service, catalogue):
    operator = service("operator")
    response = operator.post("/api/projects/examples/jobs/hello/trigger", {"priority": 7})
    assert response.status_code == 201 and response.json()["priority"] == 7
    assert operator.post("/api/projects/examples/jobs/hello/trigger", {}).json()["priority"] == 0
    refused = operator.post("/api/projects/examples/jobs/hello/trigger", {"priority": 5000})
    assert refused.status_code == 400 and refused.json()["field"] == "priority"


def test_a_pending_run_says_why_it_waits(service, catalogue):
    waiting = make_run(catalogue["hello"], status=Status.PENDING)
    reason = service("viewer").get(f"/api/runs/{waiting.identifier}").json()["waiting_reason"]
    assert reason == "No connected worker matches this job's properties right now."
