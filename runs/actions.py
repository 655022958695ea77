"""Every change of a run's state, one function each: views, consumers, commands and tests call
these, and nothing else writes a run's status, worker or abort flag.

Each change is a conditional UPDATE guarded by the state it expects; it returns whether it
changed anything, and callers act on that answer, never on a value they read earlier. A change
made by a person writes its audit record in the same transaction. What reacts to a change
(pipelines, dispatch) subscribes to `runs.signals`; this module imports none of it.

    trigger ──> pending ──claim──> pending on a worker ──start──> running ──finish──> final
                   │  ^──────release─────┘                          │
                   └─abort: cancelled          abort: flag, the worker stops it ─┘
"""

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from orchestra import audit
from orchestra.audit import Actor
from orchestra.database import atomic, locked, retried_on_conflict
from orchestra.extensions import log_store
from orchestra.prepared import prepared, prepared_update
from runs.models import (
    ACTIVE_STATUSES, FINAL_STATUSES, Resource, Run, RunStep, Status,
)
from runs.parameters import resolve_parameters
from runs.queue import Job, Worker, held_runs, jobs_for, jobs_holding, waiting_runs_of
from runs.signals import run_abort_requested, run_ended, run_released, run_started, run_triggered


class JobDisabled(Exception):
    """The job cannot be triggered: disabled, or no longer in the configuration."""


# Trigger ------------------------------------------------------------------------------------


def do_trigger_run(
    job,
    parameters: dict | None,
    actor: Actor,
    *,
    source: str = Run.Source.USER,
    schedule=None,
    hook=None,
    parent: Run | None = None,
    pipeline_element: str = "",
    priority: int | None = None,
) -> Run:
    """Create a pending run of `job` (a pipeline run starts at once: it needs no worker).

    `priority` orders the queue (higher first); the job's when None. Raises ParameterError,
    JobDisabled.
    """
    if not job.can_be_triggered:
        raise JobDisabled(f"job {job} is disabled")
    resolved = resolve_parameters(job.parameters, parameters)
    with atomic():
        run = _create_run(
            job, resolved, actor, source=source, schedule=schedule, hook=hook, parent=parent,
            pipeline_element=pipeline_element,
            priority=job.priority if priority is None else priority,
        )
        if job.is_pipeline:
            _start_without_worker(run)
        run_triggered.send(sender=Run, run=run)
    return run


def record_unstarted_run(job, parameters: dict, actor: Actor, status: str, message: str, *,
                         parent: Run, pipeline_element: str) -> Run:
    """A pipeline element's run that ends before it starts: skipped, cancelled or impossible.

    It goes through the trigger path (created and audited like any run) so that every element
    the pipeline reached has a row the website can show.
    """
    assert status in FINAL_STATUSES, status
    with atomic():
        run = _create_run(
            job, parameters, actor, source=Run.Source.PIPELINE, parent=parent,
            pipeline_element=pipeline_element, status=status, status_message=message,
            completed=timezone.now(),
        )
        run_ended.send(sender=Run, run=run, status=status, worker_id=None, parent_id=parent.pk)
    return run


def do_retry_run(run: Run) -> Run:
    """Run again, as a new run, a run that ended with a status its job retries (`runs.retries`
    decides when): same job, parameters, priority, pipeline and schedule, linked to it by
    `retry_of`, its attempt counted, and waiting out the job's delay, doubled at each attempt.
    Triggered, and audited, on behalf of whoever triggered the first attempt."""
    job = run.job
    delay = job.retry_delay * 2 ** (run.attempt - 1)
    with atomic():
        retry = _create_run(
            job, run.parameters, Actor(user=run.triggered_by), source=run.source,
            schedule=run.schedule, hook_id=run.hook_id, parent=run.parent,
            pipeline_element=run.pipeline_element,
            priority=run.priority, retry_of=run, attempt=run.attempt + 1,
            not_before=timezone.now() + timedelta(seconds=delay) if delay else None,
        )
        run_triggered.send(sender=Run, run=retry)
    return retry


def _create_run(job, parameters: dict, actor: Actor, *, status: str = Status.PENDING,
                **fields) -> Run:
    run = Run.objects.create(
        project=job.project, job=job, parameters=parameters, status=status,
        triggered_by=actor.user, **fields,
    )
    RunStep.objects.bulk_create(RunStep.of_new_run(run))
    details = {"job": str(job), "parameters": parameters, "source": run.source,
               "priority": run.priority}
    if run.parent_id:
        details.update(parent=run.parent.identifier, element=run.pipeline_element)
    if run.retry_of_id:
        details.update(retry_of=run.retry_of.identifier, attempt=run.attempt)
    if status != Status.PENDING:
        details["status"] = status
    audit.record(actor, "run.trigger", run.identifier, **details)
    return run


def _start_without_worker(run: Run) -> None:
    now = timezone.now()
    Run.objects.filter(pk=run.pk, status=Status.PENDING).update(
        status=Status.RUNNING, started=now, last_update=now
    )
    run.status, run.started = Status.RUNNING, now


# Dispatch: claim, start, release --------------------------------------------------------------


class Claim(enum.Enum):
    """What a claim did; true only when it gave the run to the worker."""

    CLAIMED = "claimed"
    GONE = "the run no longer waits"
    WORKER_FULL = "the worker has no free executor"
    LIMITED = "its job's limit is reached or a resource it holds is busy"

    def __bool__(self) -> bool:
        return self is Claim.CLAIMED


@retried_on_conflict
def claim_run(run: Run, worker) -> Claim:
    """Give the waiting `run` to `worker` if the worker has a free executor and the run's job
    its limits allow it.

    The worker's row is locked while its active runs are counted, then (for a limited job) the
    job's row and its resources' rows while theirs are: no two claims, from any masters, can
    give a worker more runs than executors, or a job or resource more than it allows.
    """
    with atomic():
        if _free_executors(worker) < 1:
            return Claim.WORKER_FULL
        return _claim(run, worker)


@retried_on_conflict
def claim_runs(worker) -> list[Run]:
    """Claim, for every free executor of `worker`, the first waiting run in queue order that it
    may take and start. Runs it cannot take never hold it back, however many wait ahead."""
    # Chosen before the transaction, as every candidate is: each claim checks its run again
    # under the locks. When none waits (a worker idle, or done with the queue) no transaction
    # is begun, which on SQLite would take the database's write lock.
    jobs = jobs_for(worker)
    if not jobs:
        return []
    claimed: list[Run] = []
    with atomic():
        free = _free_executors(worker)
        tried: set[int] = set()
        while free > 0:
            # A few more than needed: another master may take some of them first.
            candidates = [
                run for run in waiting_runs_of(jobs, limit=free + 8) if run.pk not in tried
            ]
            if not candidates:
                break
            for run in candidates:
                tried.add(run.pk)
                if _claim(run, worker):
                    claimed.append(run)
                    free -= 1
                    if not free:
                        break
            if free:
                jobs = jobs_for(worker)
    return claimed


def _free_executors(worker) -> int:
    """Executors of `worker` not holding an active run; locks the worker's row.

    None for a worker that is disabled or not connected: a run claimed for a connection that is
    gone would wait for that worker's return. A connection marks its worker disconnected under
    the same lock, and gives back what it never offered (workers.consumers).
    """
    executors = connected_worker_executors.first(worker.pk)
    if executors is None:
        return 0
    return executors - sum(active_run_count.rows(worker.pk))


@prepared
def connected_worker_executors(worker_key: int) -> QuerySet:
    return locked(
        Worker.objects.filter(pk=worker_key, is_enabled=True, is_connected=True)
    ).values_list("executors", flat=True)[:1]


@prepared
def active_run_count(worker_key: int) -> QuerySet:
    """The number of `worker_key`'s active runs, as a single row (none when it has none)."""
    return (
        Run.objects.filter(worker_id=worker_key, status__in=ACTIVE_STATUSES).order_by()
        .values("worker_id").annotate(count=Count("pk")).values_list("count", flat=True)
    )


@prepared
def ended_run_values(key: int) -> QuerySet:
    return Run.objects.filter(pk=key).order_by().values("worker_id", "parent_id", "started")[:1]


def _claim(run: Run, worker) -> Claim:
    if run.job.has_run_limits and not _within_limits(run.job_id):
        return Claim.LIMITED
    if not claim_of_run.run(run.pk, worker.pk, timezone.now()):
        return Claim.GONE
    run.worker = worker
    return Claim.CLAIMED


@prepared_update
def claim_of_run(run_key: int, worker_key: int, now: datetime) -> tuple[QuerySet, dict]:
    return (
        Run.objects.filter(pk=run_key, status=Status.PENDING, worker=None, abort_requested=False),
        {"worker_id": worker_key, "last_update": now},
    )


def _within_limits(job_id: int) -> bool:
    """Whether one more run of the job may be on a worker; locks the job's row and its
    resources' rows (in that order, resources by name: every claim locks alike)."""
    job = locked(Job.objects.filter(pk=job_id)).values("max_concurrent_runs", "resources").get()
    limit = job["max_concurrent_runs"]
    if limit and held_runs().filter(job_id=job_id).count() >= limit:
        return False
    resources = locked(Resource.objects.filter(identifier__in=job["resources"])).order_by(
        "identifier"
    )
    for resource in resources:
        if held_runs().filter(job_id__in=jobs_holding(resource.identifier)).count() >= resource.capacity:
            return False
    return len(resources) == len(job["resources"])


def start_run(run: Run, worker) -> bool:
    """The worker confirmed it holds `run`: pending becomes running."""
    now = timezone.now()
    started = start_of_run.run(run.pk, worker.pk, now)
    if started:
        run.status, run.started = Status.RUNNING, now
        run_started.send(sender=Run, run=run)
    return bool(started)


@prepared_update
def start_of_run(run_key: int, worker_key: int, now: datetime) -> tuple[QuerySet, dict]:
    return (
        Run.objects.filter(pk=run_key, worker_id=worker_key, status=Status.PENDING),
        {"status": Status.RUNNING, "started": now, "last_update": now},
    )


@retried_on_conflict
def release_run(run: Run, worker) -> bool:
    """A run claimed for `worker` but never started there goes back to the queue.

    If an abort was asked for meanwhile, the run never started: it ends `cancelled` instead.
    """
    with atomic():
        if finish_run(run, Status.CANCELLED, "cancelled before its worker started it",
                      expected={"worker": worker, "status": Status.PENDING,
                                "abort_requested": True}):
            return True
        released = Run.objects.filter(pk=run.pk, worker=worker, status=Status.PENDING).update(
            worker=None, last_update=timezone.now()
        )
        if released:
            run.worker = None
            run_released.send(sender=Run, run=run)
    return bool(released)


@retried_on_conflict
def record_progress(run: Run, worker, steps: list[dict], results: dict) -> bool:
    """Store what the executor reports of an active run on `worker`: its steps and results.

    A report means the executor runs, so a run still pending there becomes running. False when
    the run is no longer active there (ended, or given up on): nothing is changed.
    """
    with atomic():
        # The guarded update also holds the run's row until commit: an abort or a
        # mark-exception in between waits, and then sees what was stored.
        updated = Run.objects.filter(
            pk=run.pk, worker=worker, status__in=ACTIVE_STATUSES
        ).update(results=results, last_update=timezone.now())
        if not updated:
            return False
        run.results = results
        for step in steps:
            progress_of_step.run(
                run.pk, step["index"], step["status"], step["started"], step["completed"]
            )
        # Read as running, it is running: no run goes back to pending once started.
        if run.status == Status.PENDING:
            start_run(run, worker)
    return True


@prepared_update
def progress_of_step(run_key: int, index: int, status: str, started: datetime,
                     completed: datetime) -> tuple[QuerySet, dict]:
    return (
        RunStep.objects.filter(run_id=run_key, index=index),
        {"status": status, "started": started, "completed": completed},
    )


def record_log_size(run: Run, step_index: int, size: int) -> None:
    """The durable size of a step's log; it only grows (an older answer never shrinks it)."""
    RunStep.objects.filter(run=run, index=step_index, log_size__lt=size).update(log_size=size)


# Ending ---------------------------------------------------------------------------------------


@retried_on_conflict
def finish_run(run: Run, status: str, message: str = "", *, worker=None,
               expected: dict | None = None, steps_settled: bool = False) -> bool:
    """End an active run with a final status, its unfinished steps with it.

    Guarded: only a run still active (and still on `worker`, if given; and matching the
    field lookups of `expected`, if given) ends. Returns whether it did; only then is
    `run_ended` sent. `steps_settled`: the caller has just stored a final status for every
    step of the run, so none is left unfinished.
    """
    assert status in FINAL_STATUSES, status
    now = timezone.now()
    runs = Run.objects.filter(pk=run.pk, status__in=ACTIVE_STATUSES, **(expected or {}))
    if worker is not None:
        runs = runs.filter(worker=worker)
    changes = {"status": status, "completed": now, "last_update": now}
    if message:
        changes["status_message"] = message
    with atomic():
        if not runs.update(**changes):
            return False
        ended = ended_run_values.first(run.pk)
        # The instance may have been read before the run started.
        run.started = ended.pop("started")
        run.status, run.completed = status, now
        if message:
            run.status_message = message
        if not steps_settled:
            # A step cut short shares the run's fate; a step that never started was cancelled.
            RunStep.objects.filter(run_id=run.pk, status=Status.RUNNING).update(
                status=status, completed=now
            )
            RunStep.objects.filter(run_id=run.pk, status=Status.PENDING).update(
                status=Status.CANCELLED
            )
        run_ended.send(sender=Run, run=run, status=status, **ended)
    return True


@retried_on_conflict
def do_abort_run(run: Run, actor: Actor) -> bool:
    """A run no worker holds yet is cancelled at once; a running one is asked to stop on its
    worker (a pipeline: its elements). False when the run had already ended."""
    with atomic():
        if finish_run(run, Status.CANCELLED, f"cancelled by {actor.name}",
                      expected={"status": Status.PENDING, "worker": None}):
            audit.record(actor, "run.abort", run.identifier, status=Status.CANCELLED)
            return True
        flagged = Run.objects.filter(pk=run.pk, status__in=ACTIVE_STATUSES).update(
            abort_requested=True
        )
        if not flagged:
            return False
        run.refresh_from_db(fields=["status", "worker", "abort_requested"])
        audit.record(actor, "run.abort", run.identifier)
        run_abort_requested.send(sender=Run, run=run, actor=actor)
    return True


@retried_on_conflict
def do_mark_run_exception(run: Run, actor: Actor) -> bool:
    """A person gives up on an active run whose worker is lost: it ends `exception`.

    If the worker returns later, the master tells it to drop the run (docs/protocol.md).
    """
    worker = run.worker.identifier if run.worker_id else "no worker"
    with atomic():
        if not finish_run(run, Status.EXCEPTION,
                          f"marked as exception by {actor.name} ({worker} lost)"):
            return False
        audit.record(actor, "run.mark_exception", run.identifier, worker=worker)
    return True


@retried_on_conflict
def do_delete_runs(runs: Iterable[Run], actor: Actor) -> list[str]:
    """Delete finished runs with their chains (pipeline elements, retries) and every log;
    returns the identifiers deleted.

    A run goes with its chain, never half of it: a pipeline element or a retry selected
    without the run its chain starts from is left alone (the pipeline or the first attempt
    would show a hole), and so is a chain any run of which is still active. One audit record
    per chain.
    """
    selected = {run.pk for run in runs}
    roots = Run.objects.filter(
        pk__in=selected, status__in=FINAL_STATUSES, parent=None, retry_of=None
    ).select_related("job").order_by("created", "id")
    deleted: list[str] = []
    with atomic():
        for root in roots:
            chain = chain_of(root)
            if Run.objects.filter(pk__in=chain, status__in=ACTIVE_STATUSES).exists():
                continue
            identifiers = list(Run.objects.filter(pk__in=chain).values_list("identifier", flat=True))
            if not Run.objects.filter(pk=root.pk, status__in=FINAL_STATUSES).delete()[0]:
                continue
            audit.record(actor, "run.delete", root.identifier, job=str(root.job),
                         status=root.status, chain=sorted(set(identifiers) - {root.identifier}))
            deleted += identifiers
        # The files go once the rows are gone for good: a rolled-back deletion keeps them.
        store = log_store()
        transaction.on_commit(lambda: [store.delete(identifier) for identifier in deleted])
    return deleted


def chain_of(root: Run) -> list[int]:
    """Keys of the run and every run that goes with it: its pipeline's elements and the
    retries of any of them (what deleting it deletes)."""
    found, level = [root.pk], [root.pk]
    while level:
        level = list(
            Run.objects.filter(Q(parent_id__in=level) | Q(retry_of_id__in=level))
            .exclude(pk__in=found).values_list("pk", flat=True)
        )
        found += level
    return found
