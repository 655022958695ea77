"""What /metrics says of runs (orchestra/metrics.py).

From the database at each scrape: active runs (pending, running) by project and status, and
the queue. Counted by this master as runs start and end here (subscribed to `runs.signals` in
runs/apps.py): runs ended by project and status, the time from trigger to running, and the
runs' durations.

Ended runs are counted as they end rather than from the database: counting every stored run
by status reads the whole runs table at every scrape (200 ms for 300,000 runs on PostgreSQL),
while active runs are found through the status index.
"""

from collections.abc import Iterator

from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from orchestra.metrics import MASTER, REGISTRY
from runs.models import ACTIVE_STATUSES, NotificationDelivery, Run, Status

# Projects belong to an app that depends on this one: read through the run's relation.
Project = Run._meta.get_field("project").related_model

RUNS_ENDED = Counter(
    "orchestra_runs_ended",
    "Runs that reached a final status on this master, by project and status",
    ["master", "project", "status"],
    registry=REGISTRY,
)
TRIGGER_TO_RUNNING = Histogram(
    "orchestra_run_trigger_to_running_seconds",
    "Seconds from a run's creation (a retry's delay included) to its start on a worker, "
    "for the runs this master saw start",
    ["master", "project"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600),
    registry=REGISTRY,
)
RUN_DURATION = Histogram(
    "orchestra_run_duration_seconds",
    "Seconds from a run's start to its end, for the runs that started and that this master saw end",
    ["master", "project", "status"],
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600),
    registry=REGISTRY,
)


NOTIFICATION_DELIVERIES = Counter(
    "orchestra_notification_deliveries",
    "Attempts at sending a notification made by this master, by kind and outcome: delivered, "
    "retrying (failed, to be tried again) or failed (the last attempt failed)",
    ["master", "kind", "outcome"],
    registry=REGISTRY,
)


def observe_start(sender, run: Run, **kwargs) -> None:
    """`run_started`: once committed, the run's wait from its trigger."""
    waited = (run.started - run.created).total_seconds()
    project = run.project.identifier
    transaction.on_commit(lambda: TRIGGER_TO_RUNNING.labels(MASTER, project).observe(waited))


def observe_end(sender, run: Run, status: str, **kwargs) -> None:
    """`run_ended`: once committed, the run's end, and how long it ran if it started."""
    project = run.project.identifier
    lasted = (run.completed - run.started).total_seconds() if run.started else None

    def observe() -> None:
        RUNS_ENDED.labels(MASTER, project, status).inc()
        if lasted is not None:
            RUN_DURATION.labels(MASTER, project, status).observe(lasted)

    transaction.on_commit(observe)


class RunsCollector(Collector):
    """Active runs by project and status, the queue and the notifications waiting, counted by
    the database at each scrape: four queries, through the status indexes."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = {
            (project_id, status): count
            for project_id, status, count in Run.objects.filter(status__in=ACTIVE_STATUSES)
            .order_by().values_list("project_id", "status").annotate(count=Count("pk"))
        }
        runs = GaugeMetricFamily(
            "orchestra_runs", "Runs pending or running, by project and status",
            labels=["project", "status"],
        )
        # Every project, 0 included: a series that vanished would leave an alert on it with
        # nothing to compare.
        projects = Project.objects.order_by("identifier").values_list("pk", "identifier")
        for project_id, project in projects:
            for status in ACTIVE_STATUSES:
                runs.add_metric([project, status.value], counts.get((project_id, status.value), 0))
        yield runs

        queue = Run.objects.filter(status=Status.PENDING, worker=None).aggregate(
            count=Count("pk"), oldest=Min("created")
        )
        yield GaugeMetricFamily(
            "orchestra_queue_runs", "Runs waiting for a worker", value=queue["count"]
        )
        # By this master's clock, which may be a little off the clock of the master that
        # created the run: never below 0.
        age = (timezone.now() - queue["oldest"]).total_seconds() if queue["oldest"] else 0
        yield GaugeMetricFamily(
            "orchestra_queue_oldest_run_age_seconds",
            "Seconds the oldest run waiting for a worker has waited (0 when none waits)",
            value=max(age, 0),
        )
        yield GaugeMetricFamily(
            "orchestra_notifications_pending",
            "Notifications waiting to be sent, or sent again after a failed attempt",
            value=NotificationDelivery.objects.filter(
                state=NotificationDelivery.State.PENDING).count(),
        )


REGISTRY.register(RunsCollector())
