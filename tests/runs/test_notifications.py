"""Which run ends a notification tells of (all, failures, status changes), and the outbox row
written in the transaction that ended the run."""

import pytest

from orchestra.audit import SYSTEM
from orchestra.database import atomic
from projects.models import Job, Project
from runs.actions import claim_runs, do_abort_run, do_trigger_run, finish_run, start_run
from runs.models import NotificationDelivery, Run, Status
from runs.notifications import is_wanted
from workers.models import Worker

WEBHOOK = {"kind": "webhook", "url": "https://hooks.example.com/x",
           "secret_variable": "HOOK_SECRET"}


@pytest.mark.parametrize("on, status, previous, wanted", [
    ("all", "succeeded", "succeeded", True),
    ("all", "cancelled", None, True),
    ("failures", "failed", "failed", True),
    ("failures", "exception", "succeeded", True),
    ("failures", "succeeded", "failed", False),
    ("failures", "aborted", "succeeded", False),
    ("failures", "cancelled", None, False),
    ("changes", "failed", "succeeded", True),
    ("changes", "succeeded", "failed", True),
    ("changes", "succeeded", "succeeded", False),
    ("changes", "failed", "failed", False),
    ("changes", "succeeded", None, True),  # the job's first end is news
])
def test_a_rule_tells_of_the_ends_it_names(on, status, previous, wanted):
    assert is_wanted(on, status, previous) is wanted


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="unknown notification rule 'never'"):
        is_wanted("never", "failed", None)




@pytest.fixture
def worker() -> Worker:
    return Worker.objects.create(identifier="w", executors=10, is_connected=True)


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.PUBLIC_URL = "https://orchestra.example.com"


def job(job_notifications=(), project_notifications=()) -> Job:
    project = Project.objects.create(identifier="p", display_name="P",
                                     notifications=list(project_notifications))
    return Job.objects.create(
        project=project, identifier="j", display_name="j",
        steps=[{"name": "s", "command": ["true"]}], notifications=list(job_notifications),
    )


def end(job: Job, worker: Worker, status: str, message: str = "") -> Run:
    run = do_trigger_run(job, {}, SYSTEM)
    assert run.pk in [claimed.pk for claimed in claim_runs(worker)]
    assert start_run(run, worker)
    assert finish_run(run, status, message, worker=worker)
    return Run.objects.get(pk=run.pk)


def told(run: Run) -> list[tuple[str, str]]:
    return list(run.notifications.order_by("id").values_list("kind", "target"))


@pytest.mark.database
@pytest.mark.django_db
def test_a_failed_run_queues_its_project_and_job_notifications_with_what_they_say(worker):
    failing = job(
        job_notifications=[{**WEBHOOK, "on": "failures"}],
        project_notifications=[{"kind": "email", "to": ["a@example.com", "b@example.com"],
                                "on": "all"}],
    )
    run = end(failing, worker, Status.FAILED, "step s exited with 1")
    assert told(run) == [("email", "a@example.com\nb@example.com"),
                         ("webhook", "https://hooks.example.com/x")]
    delivery = run.notifications.get(kind="webhook")
    assert delivery.payload == {
        "run": run.identifier, "project": "p", "job": "j", "status": "failed",
        "message": "step s exited with 1",
        "url": f"https://orchestra.example.com/runs/{run.identifier}/",
        "completed": run.completed.isoformat(),
    }
    assert (delivery.state, delivery.attempts, delivery.secret_variable) == (
        "pending", 0, "HOOK_SECRET")

    succeeded = end(failing, worker, Status.SUCCEEDED)
    assert told(succeeded) == [("email", "a@example.com\nb@example.com")]


@pytest.mark.database
@pytest.mark.django_db
def test_status_changes_compare_with_the_jobs_previous_ended_run(worker):
    changes = job(job_notifications=[{**WEBHOOK, "on": "changes"}])
    statuses = [Status.SUCCEEDED, Status.SUCCEEDED, Status.FAILED, Status.FAILED,
                Status.SUCCEEDED]
    runs = [end(changes, worker, status) for status in statuses]
    assert [bool(told(run)) for run in runs] == [True, False, True, False, True]

    # A run that never started ends too: cancelled is a change from succeeded.
    waiting = do_trigger_run(changes, {}, SYSTEM)
    do_abort_run(waiting, SYSTEM)
    assert Run.objects.get(pk=waiting.pk).status == Status.CANCELLED
    assert told(waiting) == [("webhook", "https://hooks.example.com/x")]


@pytest.mark.database
@pytest.mark.django_db(transaction=True)
def test_the_outbox_row_is_written_in_the_transaction_that_ends_the_run(worker):
    failing = job(job_notifications=[{**WEBHOOK, "on": "failures"}])
    run = do_trigger_run(failing, {}, SYSTEM)
    claim_runs(worker)
    start_run(run, worker)

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        with atomic():
            assert finish_run(run, Status.FAILED, worker=worker)
            assert NotificationDelivery.objects.filter(run=run).count() == 1
            raise Crash
    # Neither the end nor its notification happened; both do together.
    assert Run.objects.get(pk=run.pk).status == Status.RUNNING
    assert not NotificationDelivery.objects.exists()
    assert finish_run(run, Status.FAILED, worker=worker)
    assert NotificationDelivery.objects.filter(run=run).count() == 1


@pytest.mark.database
@pytest.mark.django_db
def test_a_job_without_notifications_queues_nothing(worker):
    run = end(job(), worker, Status.FAILED)
    assert told(run) == []
