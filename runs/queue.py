"""The queue of runs waiting for a worker, which of them a worker may take, and why a run waits.

Order: highest priority first, then oldest. A job's properties decide which workers may take
its runs (`ORCHESTRA_WORKER_MATCHER`), so the rule is applied once per job with waiting runs,
not once per run; a worker then reads the first runs of the jobs it matches and may start, so
runs it cannot take, or may not start yet (their job's limit reached, a resource busy), never
stand in its way, however many of them are queued ahead.

The counts here choose candidates; the claim (`runs.actions`) counts again under row locks
before it takes one.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Now

from orchestra.extensions import worker_matcher
from orchestra.prepared import prepared
from runs.durations import approximate
from runs.models import ACTIVE_STATUSES, Resource, Run, Status

# Jobs and workers belong to apps that depend on this one: the queue reads them through the
# run's relations rather than importing those apps.
Job = Run._meta.get_field("job").related_model
Worker = Run._meta.get_field("worker").related_model

QUEUE_ORDER = ("-priority", "created", "id")


def waiting_runs() -> QuerySet:
    """Pending runs no worker holds, nobody asked to stop, and past any retry delay
    (pipelines need no worker)."""
    return all_waiting_runs().all()


@functools.cache
def all_waiting_runs() -> QuerySet:
    # Built once per process and cloned for each use, as a view class's `queryset` is: every
    # claim, trigger and sweep reads the queue, and building this filter cost more than
    # running the queries made of it.
    return Run.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lte=Now()),
        status=Status.PENDING, worker=None, abort_requested=False, job__pipeline__isnull=True,
    )


@dataclass(frozen=True)
class QueueState:
    """How many runs wait for a worker, and for how long (seconds) the oldest has."""

    length: int
    oldest_age: float | None

    @property
    def text(self) -> str:
        if not self.length:
            return "No run waits for a worker."
        runs = "run waits" if self.length == 1 else "runs wait"
        return f"{self.length} {runs} for a worker, the oldest for {approximate(self.oldest_age)}."


def queue_state(now: datetime) -> QueueState:
    found = waiting_runs().aggregate(length=Count("id"), oldest=Min("created"))
    oldest = found["oldest"]
    return QueueState(found["length"], None if oldest is None else (now - oldest).total_seconds())


def held_runs() -> QuerySet:
    """Runs on a worker (claimed or running): those that count against limits."""
    return Run.objects.filter(status__in=ACTIVE_STATUSES, worker__isnull=False)


def matching_jobs(properties: dict, jobs: dict[int, dict]) -> list[int]:
    """The keys of `jobs` (key -> job values) whose runs a worker with `properties` may take."""
    matches = worker_matcher()
    return [key for key, job in jobs.items() if matches(job["properties"], properties)]


def jobs_with_waiting_runs() -> QuerySet:
    """The keys of the jobs with waiting runs, each once."""
    # Without order_by(), the runs' default ordering joins the DISTINCT: it would read every
    # waiting run, on each claim, sweep and trigger answer, however long the queue.
    return waiting_runs().order_by().values_list("job_id", flat=True).distinct()


def waiting_jobs() -> dict[int, dict]:
    """Jobs with waiting runs: key -> their properties, limit and resources."""
    return {job["pk"]: job for job in jobs_of_waiting_runs.rows()}


@prepared
def jobs_of_waiting_runs() -> QuerySet:
    # Unordered: the jobs' default ordering would join their projects to sort them.
    return Job.objects.filter(pk__in=jobs_with_waiting_runs()).order_by().values(
        "pk", "properties", "max_concurrent_runs", "resources"
    )


def jobs_holding(resource: str) -> list[int]:
    """Keys of the jobs whose runs hold `resource` while they are on a worker."""
    return [
        key for key, resources in Job.objects.exclude(resources=[]).values_list("pk", "resources")
        if resource in resources
    ]


def resource_use(resource: str) -> int:
    return held_runs().filter(job_id__in=jobs_holding(resource)).count()


def blocked_jobs(jobs: dict[int, dict]) -> dict[int, str]:
    """Which of `jobs` may start no run now, and why: its limit reached or a resource busy."""
    limited = [key for key, job in jobs.items() if job["max_concurrent_runs"]]
    running = dict(
        held_runs().filter(job_id__in=limited).values_list("job").annotate(count=Count("pk"))
    ) if limited else {}
    names = {name for job in jobs.values() for name in job["resources"]}
    capacity = dict(
        Resource.objects.filter(identifier__in=names).values_list("identifier", "capacity")
    ) if names else {}
    busy = {name for name in names if resource_use(name) >= capacity.get(name, 0)}
    blocked = {}
    for key, job in jobs.items():
        limit = job["max_concurrent_runs"]
        if limit and running.get(key, 0) >= limit:
            blocked[key] = f"The job's limit of {limit} concurrent run(s) is reached."
        elif held := sorted(busy.intersection(job["resources"])):
            blocked[key] = f"Resource {', '.join(held)} busy."
    return blocked


def startable_jobs(jobs: dict[int, dict]) -> dict[int, dict]:
    blocked = blocked_jobs(jobs)
    return {key: job for key, job in jobs.items() if key not in blocked}


def jobs_for(worker) -> list[int]:
    """Keys of the jobs with waiting runs that `worker` may take and start now."""
    return matching_jobs(worker.properties, startable_jobs(waiting_jobs()))


def waiting_runs_of(jobs: list[int], limit: int) -> list[Run]:
    """Up to `limit` waiting runs of `jobs` (jobs_for a worker), first in queue order first:
    their key and identifier, and their job's limits (what a claim reads), nothing else loaded."""
    if not jobs:
        return []
    # Read at each claim, for candidates of which most are not taken: whole rows with their
    # job and project cost five times as much Python.
    return list(
        waiting_runs().filter(job_id__in=jobs).select_related("job")
        .only("identifier", "job__max_concurrent_runs", "job__resources")
        .order_by(*QUEUE_ORDER)[:limit]
    )


def waiting_reason(run: Run) -> str:
    """Why a pending run waits, for its page and the service; empty when it does not wait for
    a worker."""
    if run.status != Status.PENDING or run.worker_id or run.job.is_pipeline:
        return ""
    if run.not_before is not None and not waiting_runs().filter(pk=run.pk).exists():
        return f"Its retry delay runs until {run.not_before:%Y-%m-%d %H:%M:%S} UTC."
    matches = worker_matcher()
    workers = enabled_workers.rows()
    matching = [worker for worker in workers if matches(run.job.properties, worker["properties"])]
    if not matching:
        return f"No enabled worker has the properties this job needs: {run.job.properties}."
    connected = [worker for worker in matching if worker["is_connected"]]
    if not connected:
        return "No connected worker matches this job's properties right now."
    job = {"pk": run.job_id, "properties": run.job.properties,
           "max_concurrent_runs": run.job.max_concurrent_runs, "resources": run.job.resources}
    blocked = blocked_jobs({run.job_id: job})
    if blocked:
        return blocked[run.job_id]
    ahead = runs_ahead_for_the_same_workers(run, [worker["properties"] for worker in connected])
    if ahead:
        return f"Queued behind {ahead} run(s) for the same workers, which are all busy."
    return "Every matching worker is busy."


@prepared
def enabled_workers() -> QuerySet:
    return Worker.objects.filter(is_enabled=True).order_by().values("properties", "is_connected")


def runs_ahead_for_the_same_workers(run: Run, workers: list[dict]) -> int:
    """How many waiting runs come before `run` in the queue of the workers with these
    properties (the connected workers that match `run`'s job)."""
    ahead = dict(
        waiting_runs().filter(
            Q(priority__gt=run.priority)
            | Q(priority=run.priority, created__lt=run.created)
            | Q(priority=run.priority, created=run.created, id__lt=run.pk)
        ).order_by().values_list("job").annotate(count=Count("pk"))
    )
    # A queue is mostly its own job's runs: the other jobs' properties are read only when some
    # of their runs are ahead, and then in one query.
    properties = {run.job_id: run.job.properties}
    others = [key for key in ahead if key != run.job_id]
    if others:
        properties.update(
            Job.objects.filter(pk__in=others).order_by().values_list("pk", "properties")
        )
    matches = worker_matcher()
    return sum(
        count for key, count in ahead.items()
        if any(matches(properties[key], worker) for worker in workers)
    )
