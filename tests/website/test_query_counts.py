"""The pages with pictures read a bounded number of rows in a fixed number of queries: the same
with 10 runs of a job as with 1,000."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs.models import Run, RunStep, Status

# Session token with its user, permissions (one query), then each page's own queries.
PINNED = {
    # The job, its history, its recent runs.
    "/projects/examples/jobs/echo/": 5,
    # The project, its jobs, their strips (one query), schedules, hooks, recent runs.
    "/projects/examples/": 8,
    # Active runs' and failures' keys (a query per status), their rows, the usual durations of
    # the jobs of the running ones (one query), the workers online, their busy executors, the
    # queue's length and oldest run.
    "/": 11,
    # The page's keys, its workers, their busy executors, their runs per hour over a day; for an
    # administrator, the masters' registry and the configuration in force.
    "/workers/": 8,
    # The page's keys, its rows, the usual durations of the jobs of its running runs.
    "/runs/": 5,
    # A running run of echo: the run, its steps, the job's last succeeded runs and their steps,
    # its retries, its notifications.
    "running run": 8,
}

STATUSES = [Status.SUCCEEDED] * 6 + [Status.FAILED, Status.EXCEPTION, Status.ABORTED, Status.RUNNING]


def add_runs_in_bulk(job, worker, count: int) -> None:
    """`count` runs of every status (a tenth of them running), with their steps, ended over the
    last day."""
    now = timezone.now()
    runs = []
    for number in range(count):
        status = STATUSES[number % len(STATUSES)]
        started = now - timedelta(minutes=number % 1400, seconds=30)
        runs.append(Run(project=job.project, job=job, worker=worker, status=status, started=started,
                        completed=None if status == Status.RUNNING else started + timedelta(seconds=20)))
    runs = Run.objects.bulk_create(runs)
    RunStep.objects.bulk_create(
        RunStep(run=run, index=0, name="echo", status=run.status, started=run.started,
                completed=run.completed) for run in runs
    )


def page_queries(client, job) -> dict[str, int]:
    running = Run.objects.filter(job=job, status=Status.RUNNING).earliest("created")
    counts = {}
    for name in PINNED:
        url = f"/runs/{running.identifier}/" if name == "running run" else name
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200, url
        counts[name] = len(context.captured_queries)
    return counts


@pytest.mark.database
def test_page_query_counts_are_pinned_and_the_same_with_10_and_1000_runs(admin_client, populated):
    add_runs_in_bulk(populated["echo"], populated["worker"], 10)
    few = page_queries(admin_client, populated["echo"])
    add_runs_in_bulk(populated["echo"], populated["worker"], 990)
    assert page_queries(admin_client, populated["echo"]) == few == PINNED
