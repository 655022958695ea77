"""Handing pending runs to workers, correct with any number of master processes.

A run is claimed with one conditional UPDATE (pending and unclaimed -> this worker), so two
masters can never give the same run to two workers. New runs wake the consumers through the
channel layer; that is a hint only, and a periodic sweep repairs a lost one.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from django.utils import timezone

from orchestra.extensions import worker_matcher
from runs.models import ACTIVE_STATUSES, Run, Status
from workers.models import Worker

WORKERS_GROUP = "workers"
CANDIDATES_PER_CLAIM = 50


def claim_next_run(worker: Worker) -> Run | None:
    """Claim the oldest pending run this worker may take, or None."""
    matches = worker_matcher()
    candidates = (
        Run.objects.filter(status=Status.PENDING, worker=None, abort_requested=False)
        .exclude(job__pipeline__isnull=False)
        .select_related("job", "project")
        .order_by("created", "id")[:CANDIDATES_PER_CLAIM]
    )
    for run in candidates:
        if not matches(run.job.properties, worker.properties):
            continue
        claimed = Run.objects.filter(pk=run.pk, status=Status.PENDING, worker=None).update(
            worker=worker, last_update=timezone.now()
        )
        if claimed:
            run.worker = worker
            return run
    return None


def claim_runs(worker: Worker) -> list[Run]:
    """Claim runs for every free executor of `worker` (its active runs hold the others)."""
    busy = Run.objects.filter(worker=worker, status__in=ACTIVE_STATUSES).count()
    claimed = []
    for _ in range(max(worker.executors - busy, 0)):
        run = claim_next_run(worker)
        if run is None:
            break
        claimed.append(run)
    return claimed


def unmatched_reason(run: Run) -> str:
    """Why no worker takes a pending run, for its page; empty when some enabled worker could."""
    if run.status != Status.PENDING or run.worker_id:
        return ""
    matches = worker_matcher()
    workers = list(Worker.objects.filter(is_enabled=True))
    if any(matches(run.job.properties, worker.properties) for worker in workers):
        if any(w.is_connected and matches(run.job.properties, w.properties) for w in workers):
            return ""
        return "No connected worker matches this job's properties right now."
    return f"No enabled worker has the properties this job needs: {run.job.properties}."


def wake_workers() -> None:
    """Tell every consumer that a run may be waiting (a hint: the sweep covers a lost one)."""
    channel_layer = get_channel_layer()
    if channel_layer is not None:
        async_to_sync(channel_layer.group_send)(WORKERS_GROUP, {"type": "dispatch.wake"})


def send_abort(worker_id: int, run_identifier: str) -> None:
    worker = Worker.objects.filter(pk=worker_id).exclude(channel_name="").first()
    channel_layer = get_channel_layer()
    if worker is None or channel_layer is None:
        return  # delivered at the worker's next connection instead
    async_to_sync(channel_layer.send)(
        worker.channel_name, {"type": "run.abort", "run": run_identifier}
    )


__all__ = ["claim_next_run", "claim_runs", "wake_workers", "send_abort", "unmatched_reason"]
