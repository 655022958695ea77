"""/metrics: the Prometheus text format, read back with prometheus_client's own parser.

Values from the database are the same whichever master is asked; per-process values carry the
label `master` (host:pid). Per-process values are shared by the whole test process, so tests
compare them before and after what they do.
"""

import os
import re
import socket
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.functions import Now
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from orchestra.database import insert
from projects.models import Job, Project
from runs.actions import finish_run, start_run
from runs.models import NotificationDelivery, Run, Status
from runs.notification_delivery import deliver_due_notifications
from tests.api.conftest import make_run, make_user
from tests.receivers import WebhookReceiver
from workers.models import Worker
from workers.sync import store_log

pytestmark = pytest.mark.database

MASTER = f"{socket.gethostname()}:{os.getpid()}"
PER_PROCESS = {
    "orchestra_log_bytes_received", "orchestra_notification_deliveries", "orchestra_runs_ended", "orchestra_run_trigger_to_running_seconds",
    "orchestra_run_duration_seconds",
}


@pytest.fixture
def monitor(db) -> Client:
    """The client Prometheus would be: a token of a user whose only role is `monitor`."""
    _, token = make_user("prometheus", "monitor")
    return Client(headers={"Authorization": f"Bearer {token}"})


def scrape(client: Client) -> dict[tuple, float]:
    """Every sample of /metrics, keyed by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == CONTENT_TYPE_LATEST
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples[name, tuple(sorted(labels.items()))]


def test_metrics_are_for_a_token_whose_role_allows_them(users, monitor):
    anonymous = Client().get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Bearer"
    assert anonymous.content == b"a token is needed: Authorization: Bearer <token>\n"
    viewer = Client(headers={"Authorization": f"Bearer {users['viewer'][1]}"}).get("/metrics")
    assert viewer.status_code == 403
    assert viewer.content == b"this token's roles do not allow reading the metrics\n"
    assert monitor.get("/metrics").status_code == 200
    # Prometheus' token reads nothing else.
    assert monitor.get("/api/runs").status_code == 403
    administrator = Client(headers={"Authorization": f"Bearer {users['administrator'][1]}"})
    assert administrator.get("/metrics").status_code == 200


def test_runs_by_project_and_status_move_when_a_run_ends(catalogue, monitor, django_capture_on_commit_callbacks):
    hello, lone = catalogue["hello"], catalogue["lone"]
    running = make_run(hello, status=Status.RUNNING, worker=catalogue["worker"],
                       started=timezone.now() - timedelta(seconds=5))
    make_run(hello, status=Status.PENDING)
    make_run(lone, status=Status.SUCCEEDED)
    before = scrape(monitor)
    # Active runs, from the database; every project is there, at 0 when it has none.
    assert value(before, "orchestra_runs", project="examples", status="running") == 1
    assert value(before, "orchestra_runs", project="examples", status="pending") == 1
    assert value(before, "orchestra_runs", project="other", status="running") == 0
    assert value(before, "orchestra_runs", project="other", status="pending") == 0
    assert len([name for name, _ in before if name == "orchestra_runs"]) == 4

    with django_capture_on_commit_callbacks(execute=True):
        assert finish_run(running, Status.SUCCEEDED)
    after = scrape(monitor)
    assert value(after, "orchestra_runs", project="examples", status="running") == 0
    assert value(after, "orchestra_runs", project="examples", status="pending") == 1

    def ended(samples: dict, name: str, **labels) -> float:
        labels = {"master": MASTER, "project": "examples", "status": "succeeded", **labels}
        return samples.get((name, tuple(sorted(labels.items()))), 0)

    def moved(name: str, **labels) -> float:
        return ended(after, name, **labels) - ended(before, name, **labels)

    # Counted by the master that saw the run end.
    assert moved("orchestra_runs_ended_total") == 1
    assert moved("orchestra_runs_ended_total", status="failed") == 0
    assert moved("orchestra_run_duration_seconds_count") == 1
    assert 5 <= moved("orchestra_run_duration_seconds_sum") < 6
    assert moved("orchestra_run_duration_seconds_bucket", le="1.0") == 0
    assert moved("orchestra_run_duration_seconds_bucket", le="10.0") == 1


def test_a_run_that_never_started_is_counted_as_ended_without_a_duration(catalogue, monitor, django_capture_on_commit_callbacks):
    run = make_run(catalogue["hello"], status=Status.PENDING)
    labels = (("master", MASTER), ("project", "examples"), ("status", "cancelled"))
    before = scrape(monitor)
    with django_capture_on_commit_callbacks(execute=True):
        assert finish_run(run, Status.CANCELLED)
    after = scrape(monitor)
    assert after["orchestra_runs_ended_total", labels] - before.get(("orchestra_runs_ended_total", labels), 0) == 1
    assert ("orchestra_run_duration_seconds_count", labels) not in after


def test_the_time_from_trigger_to_running_is_observed_when_a_run_starts(catalogue, monitor, django_capture_on_commit_callbacks):
    run = make_run(catalogue["hello"], status=Status.PENDING, worker=catalogue["worker"])
    Run.objects.filter(pk=run.pk).update(created=timezone.now() - timedelta(seconds=3))
    run.refresh_from_db()
    labels = (("master", MASTER), ("project", "examples"))
    before = scrape(monitor)
    with django_capture_on_commit_callbacks(execute=True):
        assert start_run(run, catalogue["worker"])
    after = scrape(monitor)
    name = "orchestra_run_trigger_to_running_seconds"
    assert after[f"{name}_count", labels] - before.get((f"{name}_count", labels), 0) == 1
    assert 3 <= after[f"{name}_sum", labels] - before.get((f"{name}_sum", labels), 0) < 4


def test_the_queue_counts_runs_waiting_for_a_worker_and_its_oldest_ones_age(catalogue, monitor):
    empty = scrape(monitor)
    assert value(empty, "orchestra_queue_runs") == 0
    assert value(empty, "orchestra_queue_oldest_run_age_seconds") == 0
    hello = catalogue["hello"]
    oldest = make_run(hello, status=Status.PENDING)
    make_run(hello, status=Status.PENDING)
    make_run(hello, status=Status.PENDING, worker=catalogue["worker"])  # claimed: not waiting
    Run.objects.filter(pk=oldest.pk).update(created=timezone.now() - timedelta(minutes=10))
    samples = scrape(monitor)
    assert value(samples, "orchestra_queue_runs") == 2
    assert 600 <= value(samples, "orchestra_queue_oldest_run_age_seconds") < 660


def test_connected_workers_and_their_executors_busy_and_free(catalogue, monitor):
    hello = catalogue["hello"]
    enabled = Worker.objects.create(identifier="enabled", executors=4, is_connected=True)
    disabled = Worker.objects.create(identifier="disabled", executors=2, is_connected=True,
                                     is_enabled=False)
    Worker.objects.create(identifier="away", executors=8, is_connected=False)
    make_run(hello, status=Status.RUNNING, worker=enabled)
    make_run(hello, status=Status.PENDING, worker=enabled)  # claimed: holds an executor
    make_run(hello, status=Status.SUCCEEDED, worker=enabled)
    make_run(hello, status=Status.RUNNING, worker=disabled)
    samples = scrape(monitor)
    # catalogue["worker"] is not connected.
    assert value(samples, "orchestra_workers_connected") == 2
    assert value(samples, "orchestra_executors", state="busy") == 3
    # A disabled worker is given no run: its idle executor is not free.
    assert value(samples, "orchestra_executors", state="free") == 2


def test_log_bytes_received_are_counted_per_master(catalogue, monitor):
    worker = catalogue["worker"]
    run = make_run(catalogue["hello"], status=Status.RUNNING, worker=worker)
    labels = (("master", MASTER),)
    before = scrape(monitor).get(("orchestra_log_bytes_received_total", labels), 0)
    store_log(worker, run.identifier, 0, 0, b"hello\n")
    # Bytes sent again (a worker resuming) are received again: they cost the network as much.
    store_log(worker, run.identifier, 0, 0, b"hello\nworld\n")
    samples = scrape(monitor)
    assert samples["orchestra_log_bytes_received_total", labels] - before == 18


def test_only_per_process_values_say_which_master_they_come_from(catalogue, monitor, django_capture_on_commit_callbacks):
    run = make_run(catalogue["hello"], status=Status.RUNNING, worker=catalogue["worker"],
                   started=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        finish_run(run, Status.FAILED)
    store_log(catalogue["worker"], run.identifier, 0, 0, b"x")
    families = {
        family.name: family
        for family in text_string_to_metric_families(monitor.get("/metrics").content.decode())
    }
    assert PER_PROCESS <= set(families)
    for name, family in families.items():
        expected = MASTER if name in PER_PROCESS else None
        assert [sample.labels.get("master") for sample in family.samples] == [expected] * len(family.samples), name


def test_a_scrape_costs_the_same_few_queries_however_many_runs_projects_and_workers(catalogue, monitor):
    captured = CaptureQueriesContext(connection)

    def queries() -> int:
        with captured:
            scrape(monitor)
        return len(captured)

    make_run(catalogue["hello"], status=Status.RUNNING, worker=catalogue["worker"])
    scrape(monitor)  # the token's first use is recorded once
    few = queries()
    for number in range(5):
        project = Project.objects.create(identifier=f"more-{number}")
        job = Job.objects.create(project=project, identifier="job", steps=[])
        worker = Worker.objects.create(identifier=f"more-{number}", executors=2, is_connected=True)
        for status in (Status.PENDING, Status.RUNNING, Status.FAILED):
            make_run(job, status=status, worker=worker if status != Status.PENDING else None)
    assert queries() == few
    # The runs table is read through its status indexes, never whole.
    if connection.vendor == "mongodb":
        runs = [query["sql"] for query in captured if query["sql"].startswith("db.runs_run.")]
        # The first stage filters by status: MongoDB uses an index for a first $match alone.
        first_match = r"db\.runs_run\.aggregate\(\[\{'\$match': \{('\$and': \[\{)?'status'"
        assert len(runs) == 3 and all(re.match(first_match, sql) for sql in runs), runs
    else:
        table, status = (connection.ops.quote_name(name) for name in ("runs_run", "status"))
        runs = [query["sql"] for query in captured if table in query["sql"]]
        where_status = re.compile(rf"WHERE \(?{re.escape(f'{table}.{status}')} ")
        assert len(runs) == 3 and all(where_status.search(sql) for sql in runs), runs
    # The token and its user's permissions, then runs by project and status, projects, the
    # queue, the notifications waiting, connected workers and their active runs.
    assert few == 8, [query["sql"] for query in captured]


def test_notification_deliveries_are_counted_by_outcome_and_the_waiting_ones_by_the_database(
        catalogue, monitor, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.NOTIFICATION_ATTEMPTS = 2
    monkeypatch.setenv("METRICS_HOOK_SECRET", "secret")
    run = make_run(catalogue["hello"], status=Status.FAILED)
    before = scrape(monitor)

    def outcome(samples: dict, name: str) -> float:
        return samples.get(("orchestra_notification_deliveries_total", tuple(sorted(
            {"master": MASTER, "kind": "webhook", "outcome": name}.items()))), 0)

    with WebhookReceiver(answers=[500, 500]) as receiver:
        for _ in range(2):
            insert([NotificationDelivery(
                run=run, kind="webhook", target=receiver.url, payload={},
                secret_variable="METRICS_HOOK_SECRET", next_attempt=Now())])
        assert value(scrape(monitor), "orchestra_notifications_pending") == 2
        for _ in range(2):
            NotificationDelivery.objects.update(next_attempt=timezone.now() - timedelta(seconds=1))
            with django_capture_on_commit_callbacks(execute=True):
                deliver_due_notifications()
    after = scrape(monitor)
    # Two 500s (one try left each), then both delivered at their second attempt.
    assert [outcome(after, name) - outcome(before, name) for name in ("retrying", "delivered", "failed")] == [2, 2, 0]
    assert value(after, "orchestra_notifications_pending") == 0
