"""What a run's start and its reports cost the master: the statements each one makes (they
are paid on every run, so a statement more is a cost on all of them)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orchestra.audit import SYSTEM
from projects.models import Job, Project
from runs.actions import claim_run, do_trigger_run, finish_run
from runs.models import Run, Status
from workers.connection_records import claimed_run_requests, confirm_started
from workers.dispatch import wake_worker
from workers.models import Worker
from workers.sync import apply_state, run_request, step_log_sizes

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed() -> tuple[Worker, Run]:
    project = Project.objects.create(identifier="p", display_name="P")
    job = Job.objects.create(project=project, identifier="j", display_name="J",
                             steps=[{"name": "first", "command": ["true"]},
                                    {"name": "second", "command": ["true"]}])
    worker = Worker.objects.create(identifier="w", is_connected=True, executors=1)
    run = do_trigger_run(job, {}, SYSTEM)
    claim_run(run, worker)
    return worker, Run.objects.get(pk=run.pk)


def statements(queries: CaptureQueriesContext, start: str) -> list[str]:
    return [query["sql"] for query in queries.captured_queries if query["sql"].startswith(start)]


def test_a_start_is_confirmed_with_one_read_of_the_run_and_its_project_and_one_update(claimed):
    worker, run = claimed
    with CaptureQueriesContext(connection) as queries:
        assert confirm_started(worker, run.identifier) is False
    assert len(queries.captured_queries) == 2, queries.captured_queries
    assert Run.objects.get(pk=run.pk).status == Status.RUNNING


def test_a_report_on_a_running_run_updates_the_run_once(claimed):
    worker, run = claimed
    confirm_started(worker, run.identifier)
    now = timezone.now().timestamp()
    state = {"status": "running", "results": {"done": 1},
             "steps": [{"index": 0, "status": "succeeded", "started": now, "completed": now},
                       {"index": 1, "status": "running", "started": now}]}
    with CaptureQueriesContext(connection) as queries:
        assert apply_state(worker, run.identifier, state) == {"final": False}
    assert len(statements(queries, 'UPDATE "runs_run"')) == 1, queries.captured_queries
    run.refresh_from_db()
    assert (run.status, run.results) == (Status.RUNNING, {"done": 1})
    assert [step.status for step in run.steps.order_by("index")] == ["succeeded", "running"]


def test_a_report_on_a_run_not_yet_confirmed_starts_it(claimed):
    worker, run = claimed
    state = {"status": "running", "steps": [{"index": 0, "status": "running"}]}
    assert apply_state(worker, run.identifier, state) == {"final": False}
    run.refresh_from_db()
    assert run.status == Status.RUNNING and run.started is not None


def test_the_log_sizes_of_a_runs_steps_are_read_without_joining_its_run(claimed):
    _, run = claimed
    with CaptureQueriesContext(connection) as queries:
        assert step_log_sizes(run) == {"0": 0, "1": 0}
    assert [query["sql"] for query in queries.captured_queries if "JOIN" in query["sql"]] == []


def test_a_final_report_that_ends_every_step_leaves_the_end_no_step_to_settle(claimed):
    worker, run = claimed
    confirm_started(worker, run.identifier)
    now = timezone.now().timestamp()
    state = {"status": "failed", "steps": [
        {"index": 0, "status": "failed", "started": now, "completed": now},
        {"index": 1, "status": "cancelled"},
    ]}
    with CaptureQueriesContext(connection) as queries:
        assert apply_state(worker, run.identifier, state) == {"final": True}
    # The report's own two, one a step: none more by the end.
    assert len(statements(queries, 'UPDATE "runs_runstep"')) == 2, queries.captured_queries
    assert [step.status for step in run.steps.order_by("index")] == ["failed", "cancelled"]


@pytest.mark.parametrize("second", [
    {"index": 1, "status": "running", "started": 1764400000.0},
    None,  # not reported: still pending on the master
])
def test_a_final_report_that_leaves_a_step_unfinished_ends_it_with_the_run(claimed, second):
    worker, run = claimed
    confirm_started(worker, run.identifier)
    steps = [{"index": 0, "status": "succeeded", "started": 1764400000.0, "completed": 1764400000.0}]
    assert apply_state(worker, run.identifier, {"status": "exception", "message": "lost",
                                                 "steps": steps + ([second] if second else [])})
    first, last = run.steps.order_by("index")
    assert first.status == "succeeded"
    assert last.status == ("exception" if second else "cancelled")
    assert (last.completed is not None) == bool(second)


def test_the_rows_read_by_a_unique_key_on_a_runs_way_are_read_unordered(claimed):
    """A claim's worker row, the start's and the reports' run, the wake-up's channel: one row
    each, which an ORDER BY (the models' default, or `.first()`'s key) would cost compiling."""
    worker, run = claimed
    finish_run(run, Status.SUCCEEDED)
    second = do_trigger_run(run.job, {}, SYSTEM)
    now = timezone.now().timestamp()
    with CaptureQueriesContext(connection) as queries:
        assert claim_run(second, worker)
        confirm_started(worker, second.identifier)
        apply_state(worker, second.identifier, {"status": "succeeded", "steps": [
            {"index": index, "status": "succeeded", "started": now, "completed": now}
            for index in (0, 1)
        ]})
        wake_worker(worker.pk)
    selects = statements(queries, "SELECT")
    assert len(selects) >= 4 and [sql for sql in selects if "ORDER BY" in sql] == [], selects


def test_a_claimed_runs_request_is_read_in_one_query_of_the_columns_it_holds(claimed):
    worker, run = claimed
    Job.objects.filter(pk=run.job_id).update(timeout=60, secrets={"TOKEN": "token"})
    whole = run_request(Run.objects.select_related("job", "project").get(pk=run.pk))
    with CaptureQueriesContext(connection) as queries:
        assert claimed_run_requests(worker, set()) == [whole]
    [query] = queries.captured_queries
    assert '"projects_job"."pipeline"' not in query["sql"] and '"runs_run"."results"' not in query["sql"]
