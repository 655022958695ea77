"""What /metrics says of workers (orchestra/metrics.py).

From the database at each scrape: connected workers and their executors, busy and free.
Counted by this master: the log bytes its workers sent it (`workers.sync.store_log`).
"""

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from orchestra.metrics import MASTER, REGISTRY
from runs.models import ACTIVE_STATUSES, Run
from workers.models import Worker

LOG_BYTES_RECEIVED = Counter(
    "orchestra_log_bytes_received",
    "Bytes of step logs this master received from workers (bytes sent again after a "
    "reconnection included)",
    ["master"],
    registry=REGISTRY,
).labels(MASTER)


class WorkersCollector(Collector):
    """Connected workers and their executors, from the database at each scrape: two queries,
    whatever the number of workers and runs."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        workers = list(
            Worker.objects.filter(is_connected=True).order_by()
            .values_list("pk", "executors", "is_enabled")
        )
        # A run claimed for a worker holds one of its executors as much as a running one.
        # Every worker's, kept here for the connected ones: joined with the workers, MongoDB
        # would read every run before filtering them by status.
        connected = {pk for pk, _, _ in workers}
        busy = {
            worker_id: count
            for worker_id, count in Run.objects.filter(status__in=ACTIVE_STATUSES)
            .exclude(worker=None).order_by().values_list("worker_id").annotate(count=Count("pk"))
            if worker_id in connected
        }
        yield GaugeMetricFamily("orchestra_workers_connected", "Workers connected", value=len(workers))
        executors = GaugeMetricFamily(
            "orchestra_executors", "Executors of the connected workers, busy with a run or free "
            "(a disabled worker's idle executors are not free: it is given no run)",
            labels=["state"],
        )
        executors.add_metric(["busy"], sum(busy.values()))
        executors.add_metric(["free"], sum(
            max(count - busy.get(pk, 0), 0) for pk, count, enabled in workers if enabled
        ))
        yield executors


REGISTRY.register(WorkersCollector())
