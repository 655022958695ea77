from datetime import datetime, timedelta, timezone

import pytest
from django.core.management import call_command

from projects.configuration import load_configuration
from projects.models import Job, Schedule
from projects.scheduler import decide, latest_tick, next_tick, schedule_next_tick, tick
from runs.actions import finish_run
from runs.models import Run

pytestmark = pytest.mark.database

UTC = timezone.utc


def at(hour, minute=0, second=0, day=1):
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def test_first_sight_records_the_latest_tick_without_a_run():
    decision = decide(at(10, 30), "0 * * * *", "UTC", None, False)
    assert decision.tick == at(10) and not decision.trigger


def test_nothing_due_before_the_next_tick():
    assert decide(at(10, 59, 59), "0 * * * *", "UTC", at(10), False) is None


def test_tick_triggers_at_its_time():
    decision = decide(at(11), "0 * * * *", "UTC", at(10), False)
    assert decision.tick == at(11) and decision.trigger
    decision = decide(at(11, 0, 7), "0 * * * *", "UTC", at(10), False)
    assert decision.tick == at(11) and decision.trigger


def test_downtime_catches_up_with_one_run_for_the_latest_tick():
    decision = decide(at(15, 20), "0 * * * *", "UTC", at(10), False)
    assert decision.tick == at(15) and decision.trigger
    assert decide(at(15, 40), "0 * * * *", "UTC", decision.tick, False) is None


def test_tick_is_consumed_without_a_run_while_the_previous_run_is_active():
    decision = decide(at(11), "0 * * * *", "UTC", at(10), previous_run_active=True)
    assert decision.tick == at(11) and not decision.trigger
    # Once the run ended, the next tick triggers again; the skipped one is not replayed.
    assert decide(at(11, 30), "0 * * * *", "UTC", at(11), False) is None
    assert decide(at(12), "0 * * * *", "UTC", at(11), False).trigger


def test_disabled_schedule_consumes_ticks_without_runs():
    decision = decide(at(11), "0 * * * *", "UTC", at(10), False, enabled=False)
    assert decision.tick == at(11) and not decision.trigger


def test_timezone_reads_cron_fields_in_local_time():
    # 09:00 in Paris is 08:00 UTC in winter (UTC+1).
    assert latest_tick("0 9 * * *", "Europe/Paris", at(8, 30)) == at(8)
    assert decide(at(8, 30), "0 9 * * *", "Europe/Paris", at(8, day=1) - timedelta(days=1), False).tick == at(8)
    assert decide(at(7, 59), "0 9 * * *", "Europe/Paris", at(8) - timedelta(days=1), False) is None
    assert next_tick("0 9 * * *", "America/New_York", at(12)) == at(14)


def test_timezone_follows_daylight_saving_time():
    # Paris moves to UTC+2 on 2026-03-29: 09:00 local is then 07:00 UTC.
    after_change = datetime(2026, 3, 30, 7, 30, tzinfo=UTC)
    assert latest_tick("0 9 * * *", "Europe/Paris", after_change) == datetime(2026, 3, 30, 7, tzinfo=UTC)


@pytest.fixture
def hourly(db):
    load_configuration("examples.configuration")
    return Schedule.objects.get(identifier="hello-hourly")


def runs_of(schedule):
    return Run.objects.filter(schedule=schedule)


def test_tick_triggers_one_run_per_tick(hourly):
    assert tick(at(9, 30)) == 0  # first sight
    assert tick(at(10)) == 1
    assert tick(at(10)) == 0
    assert tick(at(10, 30)) == 0
    run = runs_of(hourly).get()
    assert run.source == "schedule" and run.job.identifier == "hello"
    hourly.refresh_from_db()
    assert hourly.last_tick == at(10) and hourly.last_run == run


def test_tick_never_runs_a_schedule_twice_concurrently(hourly):
    tick(at(9, 30))
    assert tick(at(10)) == 1
    assert tick(at(11)) == 0  # the 10:00 run is still pending
    finish_run(runs_of(hourly).get(), "succeeded")
    assert tick(at(11, 30)) == 0  # the 11:00 tick was consumed
    assert tick(at(12)) == 1
    assert runs_of(hourly).count() == 2


def test_two_masters_with_the_same_view_trigger_once(hourly):
    tick(at(9, 30))
    stale = Schedule.objects.select_related("job", "project").get(pk=hourly.pk)
    from projects.scheduler import _tick_schedule

    assert _tick_schedule(Schedule.objects.select_related("job").get(pk=hourly.pk), at(10))
    assert not _tick_schedule(stale, at(10))  # its conditional update finds last_tick moved
    assert runs_of(hourly).count() == 1


def test_disabled_schedule_and_disabled_job_skip(hourly):
    tick(at(9, 30))
    Schedule.objects.filter(pk=hourly.pk).update(is_enabled=False)
    assert tick(at(10)) == 0
    Schedule.objects.filter(pk=hourly.pk).update(is_enabled=True)
    Job.objects.filter(identifier="hello").update(is_enabled=False)
    assert tick(at(11)) == 0
    Job.objects.filter(identifier="hello").update(is_enabled=True)
    assert tick(at(11, 30)) == 0  # no catch-up for ticks skipped while disabled
    assert tick(at(12)) == 1


def test_schedule_next_tick_is_none_while_the_schedule_or_its_job_cannot_trigger(hourly):
    assert schedule_next_tick(hourly, at(10, 15)) == at(11)
    hourly.job.is_enabled = False
    assert schedule_next_tick(hourly, at(10, 15)) is None
    hourly.job.is_enabled = True
    hourly.is_enabled = False
    assert schedule_next_tick(hourly, at(10, 15)) is None



def test_tick_command_with_a_given_time(hourly):
    from io import StringIO

    out = StringIO()
    call_command("tick_schedules", "--now", "2026-03-01T09:30:00+00:00", stdout=out)
    call_command(
        "tick_schedules", "--now", "2026-03-01T10:00:00+00:00", "--now", "2026-03-01T10:30:00+00:00",
        stdout=out,
    )
    assert out.getvalue().splitlines() == ["triggered 0", "triggered 1", "triggered 0"]


def test_scheduled_pipeline_is_one_run_at_a_time(db):
    from examples.configuration import projects as example_projects, resources
    from projects.configuration import sync_projects, validate_configuration
    from projects.definitions import Schedule as ScheduleDefinition

    from dataclasses import replace

    examples = replace(
        example_projects[0], schedules=[ScheduleDefinition("diamond", "pipeline-diamond", "*/5 * * * *")]
    )
    sync_projects(*validate_configuration([examples], resources))
    schedule = Schedule.objects.get(identifier="diamond")
    tick(at(10, 1))
    assert tick(at(10, 5)) == 1
    pipeline = runs_of(schedule).get()
    assert pipeline.status == "running" and pipeline.children.count() == 1
    assert tick(at(10, 10)) == 0
    finish_run(pipeline, "aborted")
    assert tick(at(10, 15)) == 1
