import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db import DatabaseError

from orchestra.actions import set_user_enabled
from orchestra.audit import Actor
from orchestra.models import AuditEvent
from orchestra.tokens import authenticate_token, create_token
from projects.actions import set_job_enabled, set_schedule_enabled
from projects.configuration import load_configuration
from projects.models import Job, Schedule
from runs.actions import JobDisabled, claim_runs, do_trigger_run
from runs.queue import waiting_reason
from tests.orchestra.audit_failure import audit_refused, refusal  # noqa: F401 (fixture)
from workers.actions import set_worker_enabled
from workers.models import Worker

pytestmark = pytest.mark.database


@pytest.fixture
def admin(db):
    load_configuration("examples.configuration")
    return Actor(user=User.objects.create_user("root", password="a-long-password"))


def audit_actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", "target"))


def test_disabled_job_cannot_be_triggered_until_enabled_again(admin):
    job = Job.objects.get(identifier="hello")
    set_job_enabled(job, False, admin)
    with pytest.raises(JobDisabled):
        do_trigger_run(Job.objects.get(pk=job.pk), {}, admin)
    set_job_enabled(job, True, admin)
    assert do_trigger_run(Job.objects.get(pk=job.pk), {}, admin).status == "pending"
    assert ("job.disable", "examples/hello") in audit_actions()
    assert ("job.enable", "examples/hello") in audit_actions()


def test_disabling_twice_records_once(admin):
    job = Job.objects.get(identifier="hello")
    set_job_enabled(job, False, admin)
    set_job_enabled(job, False, admin)
    assert audit_actions().count(("job.disable", "examples/hello")) == 1


def test_schedule_enable_disable(admin):
    schedule = Schedule.objects.get(identifier="hello-hourly")
    set_schedule_enabled(schedule, False, admin)
    assert not Schedule.objects.get(pk=schedule.pk).is_enabled
    set_schedule_enabled(schedule, True, admin)
    assert Schedule.objects.get(pk=schedule.pk).is_enabled
    assert [a for a in audit_actions() if a[0].startswith("schedule.")] == [
        ("schedule.disable", "examples/hello-hourly"),
        ("schedule.enable", "examples/hello-hourly"),
    ]


def test_disabled_worker_is_not_counted_for_a_pending_run(admin):
    worker = Worker.objects.create(identifier="w1", is_connected=True, properties={"pool": "special"})
    run = do_trigger_run(Job.objects.get(identifier="special-pool"), {}, admin)
    assert waiting_reason(run) == "Every matching worker is busy."
    set_worker_enabled(worker, False, admin)
    assert "No enabled worker" in waiting_reason(run)
    assert ("worker.disable", "w1") in audit_actions()


def test_worker_claims_only_runs_its_properties_match(admin):
    plain = Worker.objects.create(identifier="plain", is_connected=True, properties={})
    special = Worker.objects.create(identifier="special", properties={"pool": "special"})
    run = do_trigger_run(Job.objects.get(identifier="special-pool"), {}, admin)
    assert claim_runs(plain) == []
    assert "No connected worker" in waiting_reason(run)
    assert claim_runs(special) == []  # a worker claims only while connected
    Worker.objects.filter(pk=special.pk).update(is_connected=True)
    assert [claimed.pk for claimed in claim_runs(special)] == [run.pk]
    assert claim_runs(special) == []


def test_disabled_user_cannot_log_in_and_its_tokens_stop_working(admin):
    user = User.objects.create_user("eve", password="a-long-password")
    _, value = create_token(user)
    assert authenticate_token(value) is not None
    set_user_enabled(user, False, admin)
    assert authenticate_token(value) is None
    assert authenticate(username="eve", password="a-long-password") is None
    set_user_enabled(user, True, admin)
    assert authenticate_token(value) is not None
    assert ("user.disable", "eve") in audit_actions()


@pytest.mark.parametrize(
    "setter, row, field",
    [
        (set_job_enabled, lambda: Job.objects.get(identifier="hello"), "is_enabled"),
        (set_schedule_enabled, lambda: Schedule.objects.get(identifier="hello-hourly"), "is_enabled"),
        (set_worker_enabled, lambda: Worker.objects.create(identifier="w1"), "is_enabled"),
        (set_user_enabled, lambda: User.objects.create_user("eve"), "is_active"),
    ],
    ids=["job", "schedule", "worker", "user"],
)
def test_a_change_whose_audit_record_cannot_be_written_is_not_made(admin, audit_refused, setter, row, field):
    instance = row()
    with refusal("audit refused"):
        setter(instance, False, admin)
    assert getattr(type(instance).objects.get(pk=instance.pk), field) is True
    assert getattr(instance, field) is True
