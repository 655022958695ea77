"""How busy the fleet is: executors busy and free, runs per hour over the last day, the queue."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Job, Project
from runs.models import Run, Status
from runs.queue import queue_state
from workers.load import Executors, LastDay, executors, fleet, last_day
from workers.models import Worker

pytestmark = [pytest.mark.database, pytest.mark.django_db]

NOW = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def job():
    project = Project.objects.create(identifier="p", display_name="P")
    return Job.objects.create(project=project, identifier="j", display_name="J",
                              steps=[{"name": "s", "command": ["true"]}])


def add_run(job, worker=None, status=Status.SUCCEEDED, completed=None) -> Run:
    return Run.objects.create(project=job.project, job=job, worker=worker, status=status,
                              completed=completed)


def test_busy_executors_are_the_runs_a_worker_holds_and_only_an_available_worker_has_free_ones(job):
    online = Worker.objects.create(identifier="online", is_connected=True, executors=3)
    disabled = Worker.objects.create(identifier="disabled", is_connected=True, is_enabled=False,
                                     executors=2)
    away = Worker.objects.create(identifier="away", is_connected=False, executors=4)
    add_run(job, online, Status.RUNNING)
    add_run(job, online, Status.PENDING)  # claimed, not started yet: busy too
    add_run(job, online, Status.SUCCEEDED)
    add_run(job, away, Status.RUNNING)  # still running on its machine
    with CaptureQueriesContext(connection) as queries:
        found = executors([online, disabled, away])
    assert len(queries.captured_queries) == 1
    assert found == {online.pk: Executors(2, 3, True), disabled.pk: Executors(0, 2, False),
                     away.pk: Executors(1, 4, False)}
    assert [found[worker.pk].free for worker in (online, disabled, away)] == [1, 0, 0]
    assert found[online.pk].text == "2 busy, 1 free of 3"
    assert Executors(busy=5, total=3, available=True).free == 0  # more held than it has


def test_the_fleet_adds_up_the_workers_online(job):
    first = Worker.objects.create(identifier="first", is_connected=True, executors=3)
    second = Worker.objects.create(identifier="second", is_connected=True, executors=2)
    add_run(job, first, Status.RUNNING)
    total = fleet([first, second])
    assert (total.busy, total.free, total.total, total.workers) == (1, 4, 5, 2)


def test_last_day_counts_each_hours_ended_runs_by_worker_the_current_hour_last(job):
    worker = Worker.objects.create(identifier="w")
    other = Worker.objects.create(identifier="other")
    for minutes in (5, 20):  # this hour (12:xx)
        add_run(job, worker, completed=NOW - timedelta(minutes=minutes))
    add_run(job, worker, Status.FAILED, completed=NOW - timedelta(minutes=45))  # 11:45
    add_run(job, worker, completed=NOW - timedelta(hours=23, minutes=30))  # 13:00 yesterday: first hour
    add_run(job, worker, completed=NOW - timedelta(hours=24))  # 12:30 yesterday: too old
    add_run(job, worker, Status.RUNNING)
    add_run(job, other, completed=NOW - timedelta(minutes=1))
    with CaptureQueriesContext(connection) as queries:
        days = last_day([worker.pk, other.pk], NOW)
    assert len(queries.captured_queries) == 1
    day = days[worker.pk]
    assert day.succeeded == [1] + [0] * 22 + [2]
    assert day.others == [0] * 22 + [1, 0]
    assert (day.runs, day.unsuccessful, day.busiest) == (4, 1, 2)
    assert day.text == "4 runs, 1 without success; at most 2 in an hour"
    assert days[other.pk].runs == 1


def test_the_last_days_bars_stack_the_others_on_the_succeeded_against_the_busiest_hour():
    day = LastDay(succeeded=[2] + [0] * 21 + [1, 4], others=[2] + [0] * 21 + [1, 0])
    # Each stroke from its bar's bottom, moving relative to the top of the last one.
    assert day.succeeded_path == "M2 16v-8m132 8v-4m6 4v-16"
    assert day.others_path == "M2 8v-8m132 12v-4"
    quiet = LastDay(succeeded=[0] * 24, others=[0] * 24)
    assert quiet.succeeded_path == quiet.others_path == ""
    assert quiet.text == "none"


def test_the_queue_is_the_runs_waiting_for_a_worker_and_the_age_of_the_oldest(job):
    assert queue_state(NOW).text == "No run waits for a worker."
    oldest = add_run(job, status=Status.PENDING)
    add_run(job, status=Status.PENDING)
    add_run(job, Worker.objects.create(identifier="w"), Status.PENDING)  # claimed: not waiting
    Run.objects.filter(pk=oldest.pk).update(created=NOW - timedelta(minutes=7))
    state = queue_state(NOW)
    assert (state.length, state.oldest_age) == (2, 420.0)
    assert state.text == "2 runs wait for a worker, the oldest for 7 min."
