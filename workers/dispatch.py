"""Handing waiting runs to free workers that may take them, correct with any number of masters.

A run is claimed with a conditional UPDATE under its worker's row lock (`runs.actions`), so two
masters never give a run to two workers nor a worker more runs than it has executors. Who is
told what:

- a new or released run is assigned at once (after commit) to one free, matching, connected
  worker, whose consumer alone is told to offer it: a trigger costs the same whether 1 or 200
  workers are connected;
- a worker that connects or frees an executor claims the oldest runs it may take itself (a
  worker whose report ended its run, in the same call as the report: `wakes_noted_for`);
- the sweep (`assign_waiting_runs`, every ORCHESTRA_DISPATCH_SWEEP_SECONDS on every master)
  assigns what those missed; it is one query when nothing waits.

Messages through the channel layer are hints; the database is the truth. A consumer told to
offer sends the run requests that come with the hint (what dispatch just claimed for its
worker), or reads which runs are claimed for its worker and not yet offered on its connection.
"""

import functools
import json
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce, Now

from orchestra.database import unique_row
from orchestra.prepared import PreparedRead, prepared
from runs.actions import Claim, claim_run
from runs.models import ACTIVE_STATUSES, Run
from runs.queue import QUEUE_ORDER, matching_jobs, startable_jobs, waiting_jobs, waiting_runs
from workers.models import Worker
from workers.sync import run_request

OFFER = {"type": "run.offer"}
# Run requests up to this size (their JSON) travel with the offer, which spares the consumer
# a database read; larger ones the consumer reads itself. Channel layers are made for small
# messages (Redis keeps them in memory), and a request may be up to a megabyte.
MAX_OFFERED_BYTES = 64 * 1024
WAKE = {"type": "dispatch.wake"}


@dataclass
class FreeWorker:
    """A connected worker with `free` executors, as dispatch reads it: a row's few values
    rather than a model instance, since every trigger reads every connected worker."""

    pk: int
    properties: dict
    channel_name: str
    free: int

    def record(self) -> Worker:
        """The worker's model instance, for a claim: the fields read here, the others loaded
        when read."""
        return Worker.from_db(Worker.objects.db, ["id", "properties", "channel_name"],
                              [self.pk, self.properties, self.channel_name])


@functools.lru_cache(maxsize=4)
def free_worker_rows(inactive_after: float) -> PreparedRead:
    """The rows free_workers reads, a prepared read: building and compiling this query cost
    several times what running it did."""
    recent = Now() - timedelta(seconds=inactive_after)
    # Counted through the (worker, status) index: a join with every run of each worker, then
    # a filter, would read a worker's whole history at every trigger.
    busy = (
        Run.objects.filter(worker=OuterRef("pk"), status__in=ACTIVE_STATUSES)
        .values("worker").annotate(count=Count("pk")).values("count")
    )
    return prepared(lambda: (
        Worker.objects.filter(is_connected=True, is_enabled=True, last_seen__gte=recent)
        .exclude(channel_name="").order_by()
        .annotate(busy=Coalesce(Subquery(busy, output_field=IntegerField()), 0))
        .values_list("pk", "properties", "channel_name", "executors", "busy")
    ))


def free_workers() -> list[FreeWorker]:
    """Connected, enabled workers heard from recently, with a free executor; most free first."""
    workers = [
        FreeWorker(pk, properties, channel_name, executors - busy)
        for pk, properties, channel_name, executors, busy
        in free_worker_rows(settings.WORKER_INACTIVE_AFTER).rows()
    ]
    # Shuffled first, so that equally free workers share the work.
    random.shuffle(workers)
    return sorted((worker for worker in workers if worker.free > 0), key=lambda w: -w.free)


def assign_runs(runs: list[Run]) -> int:
    """Claim each run (in the given order) for a free worker that may take it, and tell that
    worker's consumer; returns how many were assigned."""
    workers = free_workers()
    if not workers:
        return 0
    jobs = {run.job_id: {"properties": run.job.properties} for run in runs}
    takers = takers_of(workers, jobs)
    told: dict[int, FreeWorker] = {}
    claimed: dict[int, list[Run]] = {}
    limited: set[int] = set()
    assigned = 0
    for run in runs:
        if run.job_id in limited:
            continue
        for worker in workers:
            if worker.free < 1 or run.job_id not in takers[worker.pk]:
                continue
            claim = claim_run(run, worker.record())
            if claim is Claim.CLAIMED:
                worker.free -= 1
                told[worker.pk] = worker
                claimed.setdefault(worker.pk, []).append(run)
                assigned += 1
            elif claim is Claim.WORKER_FULL:
                worker.free = 0  # another master's claim filled it: skip it from now on
                continue
            elif claim is Claim.LIMITED:
                limited.add(run.job_id)
            break
        if not any(worker.free > 0 for worker in workers):
            break
    for worker in told.values():
        tell(worker.channel_name, offer_of(claimed[worker.pk]))
    return assigned


def takers_of(workers: list[FreeWorker], jobs: dict[int, dict]) -> dict[int, set[int]]:
    """Worker key -> the keys of `jobs` it may take; the matching rule applied once per
    distinct set of properties (a fleet's workers mostly share a few)."""
    by_properties: dict[str, set[int]] = {}
    takers = {}
    for worker in workers:
        key = json.dumps(worker.properties, sort_keys=True)
        if key not in by_properties:
            by_properties[key] = set(matching_jobs(worker.properties, jobs))
        takers[worker.pk] = by_properties[key]
    return takers


def offer_of(runs: list[Run]) -> dict:
    """The `run.offer` event for runs just claimed for one worker: with their requests, unless
    they are larger than MAX_OFFERED_BYTES."""
    requests = [run_request(run) for run in runs]
    if len(json.dumps(requests)) > MAX_OFFERED_BYTES:
        return OFFER
    return {**OFFER, "runs": requests}


def assign_run_when_committed(sender, run: Run, **kwargs) -> None:
    """`run_triggered` and `run_released`: assign the run once it is committed."""
    if not run.job.is_pipeline:
        transaction.on_commit(lambda: assign_runs([run]))


def assign_waiting_runs() -> int:
    """The sweep: assign waiting runs, in queue order, to free workers that may take them."""
    jobs = waiting_jobs()
    if jobs:
        jobs = startable_jobs(jobs)
    if not jobs:
        return 0
    workers = free_workers()
    takeable = set()
    for taken in takers_of(workers, jobs).values():
        takeable.update(taken)
    if not takeable:
        return 0
    slots = sum(worker.free for worker in workers)
    runs = list(
        waiting_runs().filter(job_id__in=takeable).select_related("job", "project")
        .order_by(*QUEUE_ORDER)[:slots]
    )
    return assign_runs(runs)


def wake_worker_when_committed(sender, run: Run, worker_id: int | None, **kwargs) -> None:
    """`run_ended`: the run's worker has a free executor once this commits, and the runs its
    job's limit or resources held back may start (on any worker)."""
    if worker_id is not None:
        transaction.on_commit(lambda: wake_worker(worker_id))
        if run.job.has_run_limits:
            transaction.on_commit(assign_waiting_runs)


# The worker whose wake-ups this thread notes instead of sending, and the list they go to.
_noted_wakes = threading.local()


@contextmanager
def wakes_noted_for(worker_id: int) -> Iterator[list[int]]:
    """Within: this thread's wake-ups of `worker_id` are noted in the yielded list, not sent.

    The connection of a worker whose report ended its run claims the freed executor's runs in
    the same call: a wake-up would read the worker's channel, go through the channel layer
    and the event loop back to that connection, then to a thread again for the same claim.
    """
    noted: list[int] = []
    previous = getattr(_noted_wakes, "held", None)
    _noted_wakes.held = (worker_id, noted)
    try:
        yield noted
    finally:
        _noted_wakes.held = previous


def wake_worker(worker_id: int) -> None:
    held = getattr(_noted_wakes, "held", None)
    if held is not None and held[0] == worker_id:
        held[1].append(worker_id)
        return
    channel_name = channel_of(worker_id)
    if channel_name:
        tell(channel_name, WAKE)


def send_abort_when_committed(sender, run: Run, **kwargs) -> None:
    """`run_abort_requested`: tell the run's worker, if it has one, once committed."""
    if run.worker_id is not None:
        worker_id, identifier = run.worker_id, run.identifier
        transaction.on_commit(lambda: send_abort(worker_id, identifier))


def send_abort(worker_id: int, run_identifier: str) -> None:
    channel_name = channel_of(worker_id)
    if channel_name:  # otherwise delivered at the worker's next connection (`reconcile`)
        tell(channel_name, {"type": "run.abort", "run": run_identifier})


def channel_of(worker_id: int) -> str | None:
    """The channel of the worker's consumer ('' or None when it is not connected)."""
    return unique_row(Worker.objects.filter(pk=worker_id).values_list("channel_name", flat=True))


def tell(channel_name: str, message: dict) -> None:
    """Send to one consumer through the channel layer (from synchronous code)."""
    channel_layer = get_channel_layer()
    if channel_layer is not None:
        async_to_sync(channel_layer.send)(channel_name, message)
