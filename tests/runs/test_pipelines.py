from unittest import mock

import pytest

from orchestra.audit import SYSTEM, Actor
from projects.configuration import load_configuration
from projects.models import Job
from runs.actions import do_abort_run, do_trigger_run, finish_run
from runs.models import Run, Status
from runs.pipelines import evaluate_elements, pipeline_elements, pipeline_outcome, resume_pipelines

pytestmark = pytest.mark.database

FINAL = ["succeeded", "failed", "aborted", "exception", "cancelled", "skipped"]
DIAMOND = [
    {"identifier": "a", "after": {}},
    {"identifier": "b", "after": {"a": ["succeeded"]}},
    {"identifier": "c", "after": {"a": ["succeeded"]}},
    {"identifier": "d", "after": {"b": ["succeeded"], "c": ["succeeded"]}},
]


def statuses(**given):
    return {element["identifier"]: given.get(element["identifier"]) for element in DIAMOND}


def test_elements_without_dependencies_start_first():
    decision = evaluate_elements(DIAMOND, statuses())
    assert decision.start == ["a"] and decision.skip == []


def test_nothing_starts_while_a_dependency_runs():
    for status in ("pending", "running"):
        decision = evaluate_elements(DIAMOND, statuses(a=status))
        assert decision.start == [] and decision.skip == []


def test_dependents_start_when_their_rules_hold():
    decision = evaluate_elements(DIAMOND, statuses(a="succeeded"))
    assert decision.start == ["b", "c"]
    decision = evaluate_elements(DIAMOND, statuses(a="succeeded", b="succeeded", c="running"))
    assert decision.start == []
    decision = evaluate_elements(DIAMOND, statuses(a="succeeded", b="succeeded", c="succeeded"))
    assert decision.start == ["d"]


def test_element_is_skipped_once_its_rule_cannot_hold():
    decision = evaluate_elements(DIAMOND, statuses(a="succeeded", b="running", c="failed"))
    assert decision.skip == ["d"] and decision.start == []


def test_skips_cascade():
    decision = evaluate_elements(DIAMOND, statuses(a="failed"))
    assert decision.skip == ["b", "c", "d"]


def test_rule_allowing_any_final_status():
    elements = [
        {"identifier": "build", "after": {}},
        {"identifier": "cleanup", "after": {"build": FINAL}},
        {"identifier": "on-failure", "after": {"build": ["failed"]}},
    ]
    decision = evaluate_elements(elements, {"build": "failed"})
    assert decision.start == ["cleanup", "on-failure"]
    decision = evaluate_elements(elements, {"build": "succeeded"})
    assert decision.start == ["cleanup"] and decision.skip == ["on-failure"]


def test_skipped_dependency_starts_an_element_whose_rule_allows_skipped():
    elements = [
        {"identifier": "a", "after": {}},
        {"identifier": "b", "after": {"a": ["failed"]}},
        {"identifier": "c", "after": {"b": ["skipped", "succeeded"]}},
    ]
    decision = evaluate_elements(elements, {"a": "succeeded"})
    assert decision.skip == ["b"] and decision.start == ["c"]


def test_outcome():
    assert pipeline_outcome(DIAMOND, statuses(a="succeeded", b="succeeded", c="running")) is None
    assert pipeline_outcome(DIAMOND, statuses(a="succeeded", b="succeeded", c="succeeded")) is None
    done = dict(a="succeeded", b="succeeded", c="succeeded", d="succeeded")
    assert pipeline_outcome(DIAMOND, statuses(**done)) == "succeeded"
    failed = dict(done, c="failed", d="skipped")
    assert pipeline_outcome(DIAMOND, statuses(**failed)) == "failed"
    assert pipeline_outcome(DIAMOND, statuses(**dict(done, d="exception"))) == "failed"
    assert pipeline_outcome(DIAMOND, statuses(**dict(done, d="skipped"))) == "succeeded"
    cancelled = dict(done, d="cancelled")
    assert pipeline_outcome(DIAMOND, statuses(**cancelled), abort_requested=True) == "aborted"


# Driving real child runs through runs.actions.finish_run.


@pytest.fixture
def examples(db):
    load_configuration("examples.configuration")


@pytest.fixture
def run_callbacks(django_capture_on_commit_callbacks):
    """Runs on_commit callbacks (on_child_finished) as a committed transaction would."""

    def finish(run, status):
        with django_capture_on_commit_callbacks(execute=True):
            finish_run(run, status)

    return finish


def trigger(identifier, actor=SYSTEM):
    return do_trigger_run(Job.objects.get(project__identifier="examples", identifier=identifier), {}, actor)


def children(pipeline):
    return {child.pipeline_element: child for child in Run.objects.filter(parent=pipeline)}


def element_statuses(pipeline):
    return {element.identifier: element.status for element in pipeline_elements(pipeline)}


def test_diamond_pipeline_runs_to_success(examples, run_callbacks):
    pipeline = trigger("pipeline-diamond")
    assert pipeline.status == "running"
    assert element_statuses(pipeline) == {"a": "pending", "b": "waiting", "c": "waiting", "d": "waiting"}
    child = children(pipeline)["a"]
    assert child.source == "pipeline" and child.job.identifier == "echo"
    assert child.parameters == {"text": "element a"}

    run_callbacks(child, Status.SUCCEEDED)
    assert element_statuses(pipeline) == {"a": "succeeded", "b": "pending", "c": "pending", "d": "waiting"}
    run_callbacks(children(pipeline)["b"], Status.SUCCEEDED)
    assert "d" not in children(pipeline)
    run_callbacks(children(pipeline)["c"], Status.SUCCEEDED)
    assert element_statuses(pipeline)["d"] == "pending"
    run_callbacks(children(pipeline)["d"], Status.SUCCEEDED)
    pipeline.refresh_from_db()
    assert pipeline.status == "succeeded" and pipeline.completed is not None


def test_failing_branch_skips_d_and_fails_the_pipeline(examples, run_callbacks):
    pipeline = trigger("pipeline-failure")
    run_callbacks(children(pipeline)["a"], Status.SUCCEEDED)
    assert children(pipeline)["c"].job.identifier == "fail"
    run_callbacks(children(pipeline)["c"], Status.FAILED)
    # d is skipped at once, but the pipeline waits for b.
    assert element_statuses(pipeline) == {"a": "succeeded", "b": "pending", "c": "failed", "d": "skipped"}
    assert "c ended failed" in children(pipeline)["d"].status_message
    pipeline.refresh_from_db()
    assert pipeline.status == "running"
    run_callbacks(children(pipeline)["b"], Status.SUCCEEDED)
    pipeline.refresh_from_db()
    assert pipeline.status == "failed"
    assert "c" in pipeline.status_message


def test_abort_aborts_running_children_and_cancels_the_rest(examples, run_callbacks, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import User

    from workers.models import Worker

    pipeline = trigger("pipeline-diamond")
    run_callbacks(children(pipeline)["a"], Status.SUCCEEDED)
    worker = Worker.objects.create(identifier="w1")
    b = children(pipeline)["b"]
    Run.objects.filter(pk=b.pk).update(worker=worker, status=Status.RUNNING)
    actor = Actor(user=User.objects.create(username="ops"))
    with django_capture_on_commit_callbacks(execute=True):
        do_abort_run(pipeline, actor)
    b.refresh_from_db()
    assert b.abort_requested and b.status == "running"
    assert element_statuses(pipeline) == {"a": "succeeded", "b": "running", "c": "cancelled", "d": "cancelled"}
    pipeline.refresh_from_db()
    assert pipeline.status == "running" and pipeline.abort_requested

    run_callbacks(b, Status.ABORTED)
    pipeline.refresh_from_db()
    assert pipeline.status == "aborted"


def test_abort_with_no_running_child_ends_the_pipeline_at_once(examples, django_capture_on_commit_callbacks):
    pipeline = trigger("pipeline-diamond")
    with django_capture_on_commit_callbacks(execute=True):
        do_abort_run(pipeline, SYSTEM)
    pipeline.refresh_from_db()
    assert pipeline.status == "aborted"
    assert set(element_statuses(pipeline).values()) == {"cancelled"}


def test_disabled_element_job_ends_the_element_in_exception(examples, run_callbacks):
    Job.objects.filter(identifier="fail").update(is_enabled=False)
    pipeline = trigger("pipeline-failure")
    run_callbacks(children(pipeline)["a"], Status.SUCCEEDED)
    assert element_statuses(pipeline)["c"] == "exception"
    assert "disabled" in children(pipeline)["c"].status_message
    assert element_statuses(pipeline)["d"] == "skipped"


def test_resume_pipelines_repairs_a_lost_child_notification(examples):

    pipeline = trigger("pipeline-diamond")
    # The child ends but its on-commit notification is lost (a master dying in between; on
    # MongoDB, where a test runs outside any transaction, callbacks run at once).
    with mock.patch("runs.pipelines.on_child_finished"):
        finish_run(children(pipeline)["a"], Status.SUCCEEDED)
    assert set(children(pipeline)) == {"a"}
    assert resume_pipelines() == 1
    assert set(children(pipeline)) == {"a", "b", "c"}
    assert resume_pipelines() == 0  # b and c are pending: nothing is stuck


def test_elements_are_triggered_and_audited_like_any_run_on_behalf_of_the_pipelines_user(
    examples, run_callbacks
):
    from django.contrib.auth.models import User

    from orchestra.models import AuditEvent

    ops = User.objects.create(username="ops")
    pipeline = trigger("pipeline-failure", Actor(user=ops))
    run_callbacks(children(pipeline)["a"], Status.SUCCEEDED)
    run_callbacks(children(pipeline)["c"], Status.FAILED)
    elements = children(pipeline)
    assert {element.triggered_by for element in elements.values()} == {ops}
    events = [
        (event.target, event.actor_name, event.details.get("element"), event.details.get("status"))
        for event in AuditEvent.objects.filter(action="run.trigger").order_by("id")
    ]
    assert events == [
        (pipeline.identifier, "ops", None, None),
        (elements["a"].identifier, "ops", "a", None),
        (elements["b"].identifier, "ops", "b", None),
        (elements["c"].identifier, "ops", "c", None),
        (elements["d"].identifier, "ops", "d", "skipped"),
    ]
