"""Prepared reads and updates do what their querysets do, with each call's values, compiled
once per connection."""

import gc
import threading
import weakref
from datetime import datetime, timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count, QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orchestra.audit import SYSTEM
from orchestra.database import is_mongodb  # noqa: F401 (the skip conditions)
from orchestra.prepared import prepared, prepared_update
from projects.models import Job, Project
from runs.actions import do_trigger_run
from runs.models import Run, Status
from workers.models import Worker

pytestmark = [pytest.mark.database, pytest.mark.django_db]


@pytest.fixture
def runs() -> list[Run]:
    project = Project.objects.create(identifier="p", display_name="P")
    jobs = [
        Job.objects.create(project=project, identifier=name, display_name=name.upper(),
                           steps=[{"name": "a", "command": ["true"]}], properties={"os": name})
        for name in ("j", "k")
    ]
    return [do_trigger_run(job, {}, SYSTEM) for job in (jobs[0], jobs[0], jobs[1])]


@prepared
def run_by_identifier(identifier: str) -> QuerySet:
    return Run.objects.filter(identifier=identifier).select_related("job", "project").order_by()[:1]


@prepared
def runs_of_job_since(job_key: int, since: datetime) -> QuerySet:
    return Run.objects.filter(job_id=job_key, created__gte=since).order_by("id").values(
        "identifier", "job_id"
    )


@prepared
def run_counts_by_job() -> QuerySet:
    return Run.objects.order_by().values("job_id").annotate(count=Count("pk")).values_list(
        "job_id", "count"
    )


def test_a_prepared_read_gives_the_instances_its_queryset_gives_with_their_relations(runs):
    for run in runs:
        read = run_by_identifier.first(run.identifier)
        expected = Run.objects.select_related("job", "project").get(pk=run.pk)
        assert [getattr(read, field.attname) for field in Run._meta.concrete_fields] == [
            getattr(expected, field.attname) for field in Run._meta.concrete_fields
        ]
        assert read._state.db == expected._state.db and not read._state.adding
        with CaptureQueriesContext(connection) as queries:
            assert (read.job.properties, read.project.identifier) == (
                expected.job.properties, "p"
            )
        assert not queries.captured_queries  # the relations came with the row
    assert run_by_identifier.first("no-such-run") is None


def test_a_prepared_read_takes_each_calls_values_in_their_places(runs):
    job_j, job_k = runs[0].job_id, runs[2].job_id
    past = timezone.now() - timedelta(days=1)
    assert runs_of_job_since.rows(job_j, past) == [
        {"identifier": runs[0].identifier, "job_id": job_j},
        {"identifier": runs[1].identifier, "job_id": job_j},
    ]
    assert runs_of_job_since.rows(job_k, past) == [
        {"identifier": runs[2].identifier, "job_id": job_k}
    ]
    assert runs_of_job_since.rows(job_j, timezone.now() + timedelta(days=1)) == []
    assert sorted(run_counts_by_job.rows()) == sorted([(job_j, 2), (job_k, 1)])


@pytest.mark.skipif("is_mongodb()", reason="MongoDB's queries are not SQL: they are run as built")
def test_a_prepared_read_is_built_and_compiled_once_per_connection(runs):
    built = []

    @prepared
    def job_of_run(identifier: str) -> QuerySet:
        built.append(identifier)
        return Run.objects.filter(identifier=identifier).values_list("job_id", flat=True)

    assert [job_of_run.rows(run.identifier) for run in runs] == [[run.job_id] for run in runs]
    # Built with two sets of stand-ins, which must compile alike; then never again.
    assert len(built) == 2
    job_of_run.rows(runs[0].identifier)
    assert len(built) == 2


@pytest.mark.skipif("is_mongodb()", reason="MongoDB's queries are not SQL: they are run as built")
def test_a_value_the_sql_does_not_hold_as_a_parameter_fails_naming_the_read(runs):
    @prepared
    def runs_named_like(part: str) -> QuerySet:
        # Django writes `part` into a LIKE pattern: a value the SQL holds only transformed.
        return Run.objects.filter(identifier__contains=part)

    with pytest.raises(ValueError, match="runs_named_like.*parameter 0"):
        runs_named_like.rows("a")


@prepared_update
def message_of_pending_runs(job_key: int, message: str, completed: datetime) -> tuple[QuerySet, dict]:
    return (
        Run.objects.filter(job_id=job_key, status=Status.PENDING),
        {"status_message": message, "completed": completed},
    )


def test_a_prepared_update_changes_the_rows_each_calls_values_choose(runs):
    job_j, job_k = runs[0].job_id, runs[2].job_id
    moment = timezone.now().replace(microsecond=0)  # MongoDB keeps milliseconds
    assert message_of_pending_runs.run(job_j, "first", moment) == 2
    assert message_of_pending_runs.run(job_k, "second", None) == 1
    idle = Job.objects.create(project=runs[0].project, identifier="idle", display_name="Idle",
                              steps=[{"name": "a", "command": ["true"]}])
    assert message_of_pending_runs.run(idle.pk, "nobody's", moment) == 0
    assert sorted(Run.objects.values_list("job_id", "status_message", "completed")) == sorted([
        (job_j, "first", moment), (job_j, "first", moment), (job_k, "second", None),
    ])


@pytest.mark.skipif("is_mongodb()", reason="MongoDB's queries are not SQL: they are run as built")
def test_a_prepared_update_that_filters_on_another_table_is_refused(runs):
    @prepared_update
    def message_of_project_runs(project: str) -> tuple[QuerySet, dict]:
        return Run.objects.filter(project__identifier=project), {"status_message": "x"}

    with pytest.raises(TypeError, match="message_of_project_runs"):
        message_of_project_runs.run("p")


@prepared
def workers_named(identifier: str) -> QuerySet:
    return Worker.objects.filter(identifier=identifier)


def test_a_prepared_read_keeps_no_connection_of_a_thread_that_ended(runs):
    """Request threads beyond the pool's idle ones end: what a prepared read compiled for such a
    thread must not keep its connection (and the database session in it) alive."""
    connections_of_the_thread, rows = [], []

    def read() -> None:
        try:
            connections_of_the_thread.append(weakref.ref(connections[DEFAULT_DB_ALIAS]))
            # Workers: a table this test's transaction did not write (SQLite's in-memory test
            # database, shared between threads, locks the ones it did).
            rows.append(workers_named.rows("w1"))
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    gc.collect()
    assert rows == [[]]
    assert connections_of_the_thread[0]() is None
