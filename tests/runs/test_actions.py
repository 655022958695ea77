"""The state changes of runs: each guarded by the state it expects, each saying if it acted."""

import pytest

from orchestra.audit import SYSTEM
from projects.models import Job, Project
from runs.actions import (
    claim_runs,
    do_abort_run,
    do_trigger_run,
    finish_run,
    record_log_size,
    release_run,
    start_run,
)
from runs.models import Run, RunStep, Status
from runs.signals import run_ended
from workers.models import Worker

pytestmark = [pytest.mark.database, pytest.mark.django_db]


@pytest.fixture
def job() -> Job:
    project = Project.objects.create(identifier="p", display_name="P")
    return Job.objects.create(project=project, identifier="j", display_name="J",
                              steps=[{"name": "a", "command": ["true"]},
                                     {"name": "b", "command": ["true"]}])


@pytest.fixture
def ended() -> list[tuple[str, str]]:
    """(run identifier, status) of every `run_ended` sent."""
    received = []

    def receiver(sender, run, status, **kwargs):
        received.append((run.identifier, status))

    run_ended.connect(receiver)
    yield received
    run_ended.disconnect(receiver)


def test_a_run_ends_once_and_says_so_once(job, ended):
    run = do_trigger_run(job, {}, SYSTEM)
    assert finish_run(run, Status.SUCCEEDED, "done")
    assert not finish_run(run, Status.FAILED, "too late")
    assert not finish_run(Run.objects.get(pk=run.pk), Status.EXCEPTION)
    run.refresh_from_db()
    assert (run.status, run.status_message) == (Status.SUCCEEDED, "done")
    assert ended == [(run.identifier, Status.SUCCEEDED)]


def test_finishing_ends_the_steps_cut_short_and_cancels_those_never_started(job):
    run = do_trigger_run(job, {}, SYSTEM)
    RunStep.objects.filter(run=run, index=0).update(status=Status.RUNNING)
    finish_run(run, Status.ABORTED)
    assert list(run.steps.values_list("status", flat=True)) == [Status.ABORTED, Status.CANCELLED]


def test_a_run_held_by_another_worker_is_not_finished_by_this_one(job):
    holder = Worker.objects.create(identifier="holder", is_connected=True)
    other = Worker.objects.create(identifier="other", is_connected=True)
    run = do_trigger_run(job, {}, SYSTEM)
    assert [claimed.pk for claimed in claim_runs(holder)] == [run.pk]
    assert not finish_run(run, Status.SUCCEEDED, worker=other)
    assert not start_run(run, other) and not release_run(run, other)
    assert finish_run(run, Status.SUCCEEDED, worker=holder)


def test_abort_cancels_a_waiting_run_flags_a_held_one_and_ignores_an_ended_one(job, ended):
    held, waiting, over = (do_trigger_run(job, {}, SYSTEM) for _ in range(3))
    worker = Worker.objects.create(identifier="w", executors=1, is_connected=True)
    assert [claimed.pk for claimed in claim_runs(worker)] == [held.pk]
    finish_run(over, Status.FAILED)

    assert do_abort_run(waiting, SYSTEM)
    assert do_abort_run(held, SYSTEM)
    assert not do_abort_run(over, SYSTEM)
    statuses = {run.pk: (run.status, run.abort_requested) for run in Run.objects.all()}
    assert statuses == {
        waiting.pk: (Status.CANCELLED, False),
        held.pk: (Status.PENDING, True),
        over.pk: (Status.FAILED, False),
    }
    # A flagged run is never claimed again once released: it ends cancelled.
    assert release_run(held, worker)
    assert Run.objects.get(pk=held.pk).status == Status.CANCELLED
    assert claim_runs(worker) == []


def test_a_steps_log_size_only_grows(job):
    run = do_trigger_run(job, {}, SYSTEM)
    record_log_size(run, 0, 200)
    record_log_size(run, 0, 100)  # an older answer, stored late by another master
    record_log_size(run, 1, 5)
    assert list(run.steps.values_list("log_size", flat=True)) == [200, 5]
