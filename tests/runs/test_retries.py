"""Retries: a run that ended with a status its job retries runs again, linked to it."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from orchestra.audit import SYSTEM, Actor
from orchestra.models import AuditEvent
from projects.models import Job, Project
from runs.actions import claim_runs, do_abort_run, do_trigger_run, finish_run, start_run
from runs.models import Run, Status
from workers.background import end_runs_of_lost_workers
from workers.models import Worker

pytestmark = [pytest.mark.database, pytest.mark.django_db]


@pytest.fixture
def worker() -> Worker:
    return Worker.objects.create(identifier="w", executors=10, is_connected=True)


def job(identifier: str = "flaky", **bounds) -> Job:
    project, _ = Project.objects.get_or_create(identifier="p", defaults={"display_name": "P"})
    return Job.objects.create(
        project=project, identifier=identifier, display_name=identifier,
        steps=[{"name": "s", "command": ["true"]}], **bounds,
    )


def run_to_its_end(run: Run, worker: Worker, status: str) -> Run:
    """Give the run to the worker (as dispatch would), start it, end it."""
    Run.objects.filter(pk=run.pk).update(not_before=None)
    assert run.pk in [claimed.pk for claimed in claim_runs(worker)]
    assert start_run(run, worker)
    assert finish_run(run, status, worker=worker)
    return Run.objects.get(pk=run.pk)


def retries_of(run: Run) -> list[Run]:
    return list(run.retries.order_by("attempt"))


def test_a_failed_run_is_retried_with_the_same_parameters_after_a_doubling_delay(worker):
    flaky = job(retries=2, retry_on=["failed"], retry_delay=1,
                parameters=[{"name": "path", "required": True}])
    first = do_trigger_run(flaky, {"path": "/tmp/x"}, SYSTEM, priority=5)
    before = timezone.now()
    run_to_its_end(first, worker, Status.FAILED)
    (second,) = retries_of(first)
    assert (second.attempt, second.retry_of, second.parameters, second.priority) == (
        2, first, {"path": "/tmp/x"}, 5)
    assert second.status == Status.PENDING
    assert timedelta(seconds=1) <= second.not_before - before < timedelta(seconds=2)

    before = timezone.now()
    run_to_its_end(second, worker, Status.FAILED)
    (third,) = retries_of(second)
    assert third.attempt == 3 and third.retry_of == second
    assert timedelta(seconds=2) <= third.not_before - before < timedelta(seconds=3)

    run_to_its_end(third, worker, Status.FAILED)
    assert retries_of(third) == []  # two retries, no more
    assert Run.objects.filter(job=flaky).count() == 3


def test_only_the_statuses_of_retry_on_are_retried(worker):
    default = job(retries=1)  # retry_on: exception
    assert retries_of(run_to_its_end(do_trigger_run(default, {}, SYSTEM), worker, Status.FAILED)) == []
    ended = run_to_its_end(do_trigger_run(default, {}, SYSTEM), worker, Status.EXCEPTION)
    assert [retry.attempt for retry in retries_of(ended)] == [2]


def test_an_aborted_run_is_never_retried_nor_one_that_never_reached_a_worker(worker):
    anything = job(retries=3, retry_on=["failed", "exception"])
    aborted = run_to_its_end(do_trigger_run(anything, {}, SYSTEM), worker, Status.ABORTED)
    assert retries_of(aborted) == []

    asked = do_trigger_run(anything, {}, SYSTEM)
    claim_runs(worker)
    start_run(asked, worker)
    assert do_abort_run(asked, SYSTEM)
    finish_run(asked, Status.FAILED, worker=worker)  # it failed on its way down: still no retry
    assert retries_of(asked) == []

    waiting = do_trigger_run(anything, {}, SYSTEM)
    finish_run(waiting, Status.EXCEPTION, "given up before any worker took it")
    assert retries_of(waiting) == []


def test_a_retry_is_triggered_and_audited_on_behalf_of_the_first_runs_user(worker):
    ops = User.objects.create(username="ops")
    first = do_trigger_run(job(retries=1), {}, Actor(user=ops))
    run_to_its_end(first, worker, Status.EXCEPTION)
    (retry,) = retries_of(first)
    assert retry.triggered_by == ops
    event = AuditEvent.objects.get(action="run.trigger", target=retry.identifier)
    assert (event.actor_name, event.details["retry_of"], event.details["attempt"]) == (
        "ops", first.identifier, 2)


def test_a_pipeline_waits_for_its_elements_retry(django_capture_on_commit_callbacks, worker):
    job("element", retries=1)
    project = Project.objects.get(identifier="p")
    pipeline_job = Job.objects.create(
        project=project, identifier="pipe", display_name="pipe",
        pipeline={"elements": [{"identifier": "only", "job": "element", "parameters": {}, "after": {}}]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        pipeline = do_trigger_run(pipeline_job, {}, SYSTEM)
    element = Run.objects.get(parent=pipeline)
    with django_capture_on_commit_callbacks(execute=True):
        run_to_its_end(element, worker, Status.EXCEPTION)
    pipeline.refresh_from_db()
    assert pipeline.status == Status.RUNNING  # the retry is pending
    (retry,) = retries_of(element)
    assert (retry.parent, retry.pipeline_element) == (pipeline, "only")
    with django_capture_on_commit_callbacks(execute=True):
        run_to_its_end(retry, worker, Status.SUCCEEDED)
    pipeline.refresh_from_db()
    assert pipeline.status == Status.SUCCEEDED


def test_runs_of_a_lost_worker_end_in_exception_and_are_retried(settings, worker):
    settings.WORKER_LOST_AFTER = 60
    retried, plain = job("retried", retries=1), job("plain")
    runs = [do_trigger_run(retried, {}, SYSTEM), do_trigger_run(plain, {}, SYSTEM)]
    claim_runs(worker)
    start_run(runs[0], worker)
    Worker.objects.filter(pk=worker.pk).update(is_connected=False, last_seen=timezone.now() - timedelta(seconds=30))
    assert end_runs_of_lost_workers() == 0  # away, not lost yet
    Worker.objects.filter(pk=worker.pk).update(last_seen=timezone.now() - timedelta(seconds=61))
    assert end_runs_of_lost_workers() == 2
    ended = {run.job.identifier: run for run in Run.objects.filter(attempt=1)}
    assert {name: run.status for name, run in ended.items()} == {
        "retried": Status.EXCEPTION, "plain": Status.EXCEPTION}
    assert ended["plain"].status_message == "worker w lost: disconnected for more than 60 s"
    assert [retry.status for retry in retries_of(ended["retried"])] == [Status.PENDING]
    assert end_runs_of_lost_workers() == 0


def test_without_a_lost_after_setting_runs_of_absent_workers_stay(settings, worker):
    settings.WORKER_LOST_AFTER = None
    run = do_trigger_run(job("plain"), {}, SYSTEM)
    claim_runs(worker)
    Worker.objects.filter(pk=worker.pk).update(is_connected=False, last_seen=timezone.now() - timedelta(days=30))
    assert end_runs_of_lost_workers() == 0
    assert Run.objects.get(pk=run.pk).status == Status.PENDING
