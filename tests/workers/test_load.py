"""How busy the fleet is: executors busy and free, runs per hour over the last day, the queue."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Job, Project
from runs.models import Run, Status
from runs.queue import queue_state
from workers.load import Executors, LastDay, executors, fleet, last_day, last_day_counts
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


# SQLite's statistics of the runs' table with a million runs of five workers (ANALYZE after
# `bench/pages.py --runs 1000000`), by index name (the migrations name them alike everywhere).
MILLION_RUNS_STATISTICS = {
    "runs_run_worker__92081e_idx": "1000000 200000 1",
    "runs_run_hook_id_c012dcee": "1000000 1000000",
    "runs_run_retry_of_id_ce32c0bf": "1000000 1000000",
    "runs_run_status_a4ccea_idx": "1000000 250000 50000 50000 1",
    "runs_run_job_id_85586d_idx": "1000000 50000 50000 1",
    "runs_run_status_fac4b0_idx": "1000000 250000 1",
    "runs_run_complet_c4425a_idx": "1000000 1",
    "runs_run_started_741f4a_idx": "1000000 1",
    "runs_run_source_819b6d_idx": "1000000 1000000 1",
    "runs_run_created_d22f6a_idx": "1000000 1 1",
    "runs_run_job_id_5d1409_idx": "1000000 50000 12500 1",
    "runs_run_project_a0ea9e_idx": "1000000 250000 62500 1",
    "runs_run_worker__c654c1_idx": "1000000 200000 50000",
    "runs_run_project_ce9497_idx": "1000000 250000 1",
    "runs_run_job_id_cd8548_idx": "1000000 50000 1",
    "runs_run_status_9f92ab_idx": "1000000 250000 1",
    "runs_run_parent_id_8594b290": "1000000 1000000",
    "runs_run_worker_id_0c219627": "1000000 200000",
    "runs_run_triggered_by_id_82317595": "1000000 1000000",
    "runs_run_schedule_id_6c827442": "1000000 1000000",
    "runs_run_project_id_f1a383ab": "1000000 250000",
    "runs_run_job_id_0ad2ed4c": "1000000 50000",
    "sqlite_autoindex_runs_run_1": "1000000 1",
}


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="the plan asked of is SQLite's")
def test_the_last_day_reads_the_workers_last_day_not_their_whole_history(job):
    """With the statistics of a long history, SQLite chose the (worker, status) index for a
    grouping by status, and read every run the workers ever ran (0.8 s with a million)."""
    workers = [Worker.objects.create(identifier=f"w{n}") for n in range(5)]
    for n in range(10):
        add_run(job, workers[n % 5], completed=NOW - timedelta(hours=n))
    names = {tuple(index.fields): index.name for index in Run._meta.indexes}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'runs_run'")
        for index, statistics in MILLION_RUNS_STATISTICS.items():
            cursor.execute("INSERT INTO sqlite_stat1 VALUES ('runs_run', %s, %s)",
                           [index, statistics])
        cursor.execute("ANALYZE sqlite_schema")  # the planner reads them again
    plan = last_day_counts([worker.pk for worker in workers], NOW - timedelta(hours=23)).explain()
    assert f"USING INDEX {names[('worker', 'completed')]} (worker_id=? AND completed>?)" in plan, plan
