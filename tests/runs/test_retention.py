"""Retention: a job's last N finished runs, or N days, are kept; older chains go whole."""

from datetime import timedelta

from unittest import mock

import pytest
from django.utils import timezone

from orchestra.audit import SYSTEM
from orchestra.extensions import log_store
from orchestra.models import AuditEvent
from projects.models import Job, Project
from runs.actions import do_trigger_run, finish_run
from runs.models import Run, Status
from runs.retention import apply_keep_runs, delete_expired_runs, describe_retention

# Logs are deleted with their runs in either log store.
pytestmark = [pytest.mark.database, pytest.mark.django_db, pytest.mark.usefixtures("configured_log_store")]


def job(identifier: str = "kept", **fields) -> Job:
    project, _ = Project.objects.get_or_create(identifier="p", defaults={"display_name": "P"})
    return Job.objects.create(project=project, identifier=identifier, display_name=identifier,
                              steps=[{"name": "s", "command": ["true"]}], **fields)


def finished(job: Job, status: str = Status.SUCCEEDED, **fields) -> Run:
    run = do_trigger_run(job, {}, SYSTEM)
    Run.objects.filter(pk=run.pk).update(**fields)
    log_store().append(run.identifier, 0, 0, f"log of {run.identifier}\n".encode())
    assert finish_run(run, status)
    return run


def remaining(job: Job) -> list[str]:
    return list(Run.objects.filter(job=job).order_by("created", "id").values_list("identifier", flat=True))


def test_the_last_runs_are_kept_and_the_older_ones_deleted_with_their_logs(django_capture_on_commit_callbacks):
    kept = job(keep_runs=3)
    with django_capture_on_commit_callbacks(execute=True):
        runs = [finished(kept) for _ in range(5)]
    assert remaining(kept) == [run.identifier for run in runs[2:]]
    assert [log_store().read(run.identifier, 0) for run in runs[:2]] == [b"", b""]
    assert log_store().read(runs[4].identifier, 0) == f"log of {runs[4].identifier}\n".encode()
    events = AuditEvent.objects.filter(action="run.delete").order_by("id")
    assert [(event.target, event.actor_name) for event in events] == [
        (runs[0].identifier, "retention"), (runs[1].identifier, "retention")]


def test_a_retry_chain_goes_whole_and_only_once_finished():
    flaky = job(keep_runs=1, retries=1)
    first = finished(flaky, Status.EXCEPTION, worker=None)
    retry = Run.objects.create(project=flaky.project, job=flaky, retry_of=first, attempt=2)
    later = finished(flaky)
    assert apply_keep_runs(flaky.pk) == 0  # the first chain is not finished: its retry waits
    # The limit its end applies once committed (at once on MongoDB, where a test runs outside
    # any transaction) is left out: the test applies it.
    with mock.patch("runs.retention.apply_keep_runs"):
        finish_run(retry, Status.SUCCEEDED)
    assert apply_keep_runs(flaky.pk) == 2
    assert remaining(flaky) == [later.identifier]


def test_pipeline_elements_go_with_their_pipeline_and_count_for_it_alone():
    element_job = job("element", keep_runs=1)
    pipeline_job = job("pipe", keep_runs=1)
    Job.objects.filter(pk=pipeline_job.pk).update(steps=[])
    pipelines = []
    for _ in range(2):
        pipeline = Run.objects.create(project=pipeline_job.project, job=pipeline_job,
                                      status=Status.SUCCEEDED, completed=timezone.now())
        Run.objects.create(project=element_job.project, job=element_job, parent=pipeline,
                           pipeline_element="only", status=Status.SUCCEEDED)
        pipelines.append(pipeline)
    assert apply_keep_runs(element_job.pk) == 0  # elements are not the element job's to count
    assert apply_keep_runs(pipeline_job.pk) == 2
    assert list(Run.objects.values_list("parent", flat=True).order_by("id")) == [None, pipelines[1].pk]


def test_runs_older_than_their_jobs_days_or_the_global_days_are_deleted(settings):
    settings.KEEP_RUNS_DAYS = 30
    own, default = job("own", keep_days=2), job("default")
    now = timezone.now()
    old_own, new_own = finished(own), finished(own)
    old_default, new_default = finished(default), finished(default)
    Run.objects.filter(pk=old_own.pk).update(completed=now - timedelta(days=3))
    Run.objects.filter(pk=new_own.pk).update(completed=now - timedelta(days=1))
    Run.objects.filter(pk=old_default.pk).update(completed=now - timedelta(days=31))
    Run.objects.filter(pk=new_default.pk).update(completed=now - timedelta(days=29))
    assert delete_expired_runs(now) == 2
    assert (remaining(own), remaining(default)) == ([new_own.identifier], [new_default.identifier])
    settings.KEEP_RUNS_DAYS = None
    Run.objects.filter(pk=new_default.pk).update(completed=now - timedelta(days=400))
    assert delete_expired_runs(now) == 0


def test_the_job_page_says_what_is_kept(settings):
    settings.KEEP_RUNS_DAYS = None
    assert describe_retention(job("all")) == "every run, forever"
    assert describe_retention(job("few", keep_runs=3)) == "the last 3 finished runs, with their logs"
    settings.KEEP_RUNS_DAYS = 90
    assert describe_retention(job("both", keep_runs=1)) == (
        "the last 1 finished run and runs finished in the last 90 days, with their logs")
