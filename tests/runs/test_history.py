"""A job's newest runs for the website's pictures: a few columns from an index, one query."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects.models import Job, Project
from runs.history import PastRun, histories, job_history, summarize
from runs.models import Run, Status

pytestmark = [pytest.mark.database, pytest.mark.django_db]


def make_job(identifier: str) -> Job:
    project, _ = Project.objects.get_or_create(identifier="p", defaults={"display_name": "P"})
    return Job.objects.create(project=project, identifier=identifier, display_name=identifier,
                              steps=[{"name": "s", "command": ["true"]}])


def add_runs(job: Job, statuses: list[str], seconds: int = 10) -> list[Run]:
    """Runs created a minute apart, oldest first, each taking `seconds` once it ended."""
    start = timezone.now() - timedelta(days=1)
    runs = []
    for number, status in enumerate(statuses):
        created = start + timedelta(minutes=len(runs) + Run.objects.filter(job=job).count())
        ended = status not in (Status.PENDING, Status.RUNNING)
        runs.append(Run(project=job.project, job=job, status=status, created=created,
                        started=None if status == Status.PENDING else created,
                        completed=created + timedelta(seconds=seconds + number) if ended else None))
    created = Run.objects.bulk_create(runs)
    for run in created:  # auto_now_add ignores the value given at creation
        Run.objects.filter(pk=run.pk).update(created=run.created)
    return created


def test_job_history_is_its_newest_runs_oldest_first_with_their_durations():
    job, other = make_job("a"), make_job("b")
    runs = add_runs(job, [Status.SUCCEEDED] * 4 + [Status.FAILED, Status.RUNNING])
    add_runs(other, [Status.SUCCEEDED] * 3)
    history = job_history(job.pk, count=3)
    assert history == [
        PastRun(runs[3].identifier, Status.SUCCEEDED, 13.0),
        PastRun(runs[4].identifier, Status.FAILED, 14.0),
        PastRun(runs[5].identifier, Status.RUNNING, None),
    ]
    assert history[0].url == f"/runs/{runs[3].identifier}/"
    assert history[1].label == f"run {runs[4].identifier[:8]} failed, 14s"


def test_histories_of_many_jobs_are_one_query_of_each_jobs_newest_runs():
    jobs = [make_job(f"job-{number}") for number in range(5)]
    expected = {}
    for number, job in enumerate(jobs):
        runs = add_runs(job, [Status.SUCCEEDED, Status.FAILED] * (number + 2))
        expected[job.pk] = [run.identifier for run in runs[-3:]]
    with CaptureQueriesContext(connection) as queries:
        found = histories([job.pk for job in jobs] + [jobs[0].pk], count=3)
    assert len(queries.captured_queries) == 1
    assert {job: [run.identifier for run in runs] for job, runs in found.items()} == expected


def test_a_job_without_runs_has_an_empty_history():
    job, other = make_job("empty"), make_job("busy")
    add_runs(other, [Status.SUCCEEDED])
    assert histories([job.pk, other.pk])[job.pk] == []
    assert job_history(job.pk) == []


def test_summary_rates_the_runs_that_ended_and_times_those_that_succeeded():
    runs = [PastRun(str(n), Status.SUCCEEDED, float(n)) for n in range(1, 11)]
    runs += [PastRun("f", Status.FAILED, 500.0), PastRun("e", Status.EXCEPTION, None),
             PastRun("r", Status.RUNNING, None)]
    summary = summarize(runs)
    assert (summary.shown, summary.ended, summary.succeeded) == (13, 12, 10)
    assert summary.success_rate == 83  # 10 of 12, rounded down
    assert summary.median == 5.5 and summary.p95 == pytest.approx(9.55)
    assert summary.outcomes == "1 running, 10 succeeded, 1 failed, 1 exception"
    assert summary.durations == "median 5.5s, 95th percentile 9.6s"


def test_summary_without_ended_or_succeeded_runs():
    summary = summarize([PastRun("r", Status.RUNNING, None)])
    assert summary.success_rate is None and summary.median is None
    assert summary.durations == "no succeeded run to time"
    assert summarize([PastRun("f", Status.FAILED, 3.0)]).success_rate == 0


def test_one_failure_among_many_never_reads_as_a_perfect_rate():
    runs = [PastRun(str(n), Status.SUCCEEDED, 1.0) for n in range(199)] + [PastRun("f", Status.FAILED, 1.0)]
    assert summarize(runs).success_rate == 99
