"""The queue of runs waiting for a worker, and which of them a worker may take.

A job's properties decide which workers may take its runs (`ORCHESTRA_WORKER_MATCHER`), so the
rule is applied once per job with waiting runs, not once per run: a worker then reads the oldest
runs of the jobs it matches, and runs it cannot take never stand in its way, however many of
them are queued ahead.
"""

from django.db.models import QuerySet

from orchestra.extensions import worker_matcher
from runs.models import Run, Status

# Workers are the workers app's; the queue reads them through the run's relation, so that this
# app does not depend on that one (which depends on this).
Worker = Run._meta.get_field("worker").related_model


def waiting_runs() -> QuerySet:
    """Pending runs no worker holds and nobody asked to stop (pipelines need no worker)."""
    return Run.objects.filter(
        status=Status.PENDING, worker=None, abort_requested=False, job__pipeline__isnull=True
    )


def matching_jobs(properties: dict, jobs: dict[int, dict]) -> list[int]:
    """The keys of `jobs` (key -> job properties) whose runs a worker with `properties` may take."""
    matches = worker_matcher()
    return [key for key, job_properties in jobs.items() if matches(job_properties, properties)]


def waiting_jobs() -> dict[int, dict]:
    """Jobs with waiting runs: key -> properties."""
    keys = set(waiting_runs().values_list("job_id", flat=True).distinct())
    job_model = Run._meta.get_field("job").related_model
    return dict(job_model.objects.filter(pk__in=keys).values_list("pk", "properties"))


def waiting_runs_for(worker, limit: int) -> list[Run]:
    """Up to `limit` waiting runs `worker` may take, oldest first."""
    jobs = matching_jobs(worker.properties, waiting_jobs())
    if not jobs:
        return []
    return list(
        waiting_runs().filter(job_id__in=jobs).select_related("job", "project")
        .order_by("created", "id")[:limit]
    )


def waiting_reason(run: Run) -> str:
    """Why a pending run waits, for its page; empty when it does not wait for a worker."""
    if run.status != Status.PENDING or run.worker_id or run.job.is_pipeline:
        return ""
    matches = worker_matcher()
    workers = list(Worker.objects.filter(is_enabled=True).values("properties", "is_connected"))
    matching = [worker for worker in workers if matches(run.job.properties, worker["properties"])]
    if not matching:
        return f"No enabled worker has the properties this job needs: {run.job.properties}."
    if not any(worker["is_connected"] for worker in matching):
        return "No connected worker matches this job's properties right now."
    ahead = waiting_runs().filter(job=run.job, created__lt=run.created).count()
    if ahead:
        return f"Every matching worker is busy; {ahead} earlier run(s) of this job wait too."
    return "Every matching worker is busy."
