"""How far along a running run or step is, against the median of the job's last succeeded runs."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.models import RunStep, Status
from runs.progress import ESTIMATE_RUNS, Progress, job_estimates, progress_of, run_estimates
from tests.runs.test_history import add_runs, make_job

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_about_what_is_left_of_the_usual_time():
    progress = progress_of(NOW - timedelta(seconds=30), 100.0, NOW)
    assert progress == Progress(elapsed=30.0, expected=100.0)
    assert progress.text == "30 s elapsed, about 70 s left"
    assert (progress.value, progress.maximum) == ("30.0", "100.0")
    assert not progress.is_over


def test_over_the_usual_time():
    progress = progress_of(NOW - timedelta(minutes=10), 120.0, NOW)
    assert progress.is_over
    assert progress.text == "10 min elapsed, over the usual time by 8 min"
    assert (progress.value, progress.maximum) == ("120.0", "120.0")  # a full bar, never past it


def test_about_to_end_says_a_second_left_rather_than_none():
    assert progress_of(NOW - timedelta(seconds=9.8), 10.0, NOW).text == "10 s elapsed, about 1 s left"


def test_without_history_elapsed_time_only():
    progress = progress_of(NOW - timedelta(seconds=42), None, NOW)
    assert progress.text == "42 s elapsed"
    assert progress.expected_attribute == "" and progress.elapsed_attribute == "42.0"


def test_a_run_not_started_has_no_progress():
    assert progress_of(None, 10.0, NOW) is None


@pytest.mark.database
@pytest.mark.django_db
def test_the_usual_time_is_the_median_of_the_last_ten_succeeded_runs_of_each_job():
    job, other, new = make_job("a"), make_job("b"), make_job("new")
    add_runs(job, [Status.SUCCEEDED] * 5, seconds=1000)  # older: beyond the last ten
    add_runs(job, [Status.SUCCEEDED, Status.FAILED] * ESTIMATE_RUNS, seconds=10)  # 10 .. 29 s
    add_runs(job, [Status.RUNNING])
    add_runs(other, [Status.SUCCEEDED] * 3, seconds=60)  # 60, 61, 62 s
    with CaptureQueriesContext(connection) as queries:
        estimates = run_estimates([job.pk, other.pk, new.pk])
    assert len(queries.captured_queries) == 1
    # The succeeded ones took 10, 12, .. 28 s: the median is between 18 and 20.
    assert estimates == {job.pk: 19.0, other.pk: 61.0, new.pk: None}


@pytest.mark.database
@pytest.mark.django_db
def test_a_steps_usual_time_comes_from_the_same_step_of_those_runs():
    job = make_job("steps")
    runs = add_runs(job, [Status.SUCCEEDED] * 3 + [Status.FAILED], seconds=30)
    for number, run in enumerate(runs):
        RunStep.objects.create(run=run, index=0, name="build", status=run.status, started=run.started,
                               completed=run.started + timedelta(seconds=10 + number))
        RunStep.objects.create(run=run, index=1, name="test", status=run.status,
                               started=run.started + timedelta(seconds=20),
                               completed=run.started + timedelta(seconds=25))
    estimates = job_estimates(job.pk)
    assert estimates.run == 31.0  # 30, 31, 32 s
    assert estimates.step(0, "build") == 11.0  # 10, 11, 12 s; the failed run's 13 s not counted
    assert estimates.step(1, "test") == 5.0
    assert estimates.step(1, "renamed") is None and estimates.step(2, "test") is None
