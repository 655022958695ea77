"""How long runs and their logs are kept: a job's `keep_runs` (its last N finished runs) and
`keep_days`, and ORCHESTRA_KEEP_RUNS_DAYS for every job.

What is counted and deleted is a chain: a run that starts one (neither a pipeline element nor
a retry) with its elements and retries, all finished. A job's count limit is applied as each
of its runs ends; the day limits by each master's housekeeping. Deletion goes through
`runs.actions.do_delete_runs` (audited, logs removed once committed), a batch of chains per
transaction, so no long lock is ever held.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from orchestra.audit import Actor
from runs.actions import do_delete_runs
from runs.models import ACTIVE_STATUSES, FINAL_STATUSES, Run
from runs.queue import Job

RETENTION = Actor(label="retention")
BATCH = 100


def keep_days(job) -> int | None:
    """The days a job's finished runs are kept: its own limit, else the global one."""
    return job.keep_days or settings.KEEP_RUNS_DAYS


def describe_retention(job) -> str:
    """What the job page says is kept."""
    rules = []
    if job.keep_runs:
        rules.append(f"the last {job.keep_runs} finished run{'s' if job.keep_runs > 1 else ''}")
    days = keep_days(job)
    if days:
        rules.append(f"runs finished in the last {days} day{'s' if days > 1 else ''}")
    if not rules:
        return "every run, forever"
    return " and ".join(rules) + ", with their logs"


def finished_chains(job_id: int):
    """Runs of the job that start a chain, finished, with no run of their chain active (a
    retry waiting, an element running), newest first."""
    active_retry = Run.objects.filter(retry_of=OuterRef("pk"), status__in=ACTIVE_STATUSES)
    return (
        Run.objects.filter(job_id=job_id, parent=None, retry_of=None, status__in=FINAL_STATUSES)
        .exclude(Exists(active_retry))
        .order_by("-created", "-id")
    )


def delete_in_batches(runs) -> int:
    """Delete the chains of `runs` (a queryset of chain starts), a batch per transaction."""
    deleted = 0
    while batch := list(runs[:BATCH]):
        removed = do_delete_runs(batch, RETENTION)
        deleted += len(removed)
        if not removed:
            break  # what is left cannot go now (a chain became active again)
    return deleted


def apply_keep_runs(job_id: int) -> int:
    """Delete the job's finished chains beyond its `keep_runs` newest; returns runs deleted."""
    limit = Job.objects.filter(pk=job_id).values_list("keep_runs", flat=True).first()
    if not limit:
        return 0
    kept = list(finished_chains(job_id).values_list("pk", flat=True)[:limit])
    return delete_in_batches(finished_chains(job_id).exclude(pk__in=kept))


def keep_runs_when_committed(sender, run: Run, **kwargs) -> None:
    """`run_ended`: apply the job's count limit once the end is committed."""
    if run.job.keep_runs:
        job_id = run.job_id
        transaction.on_commit(lambda: apply_keep_runs(job_id))


def delete_expired_runs(now=None) -> int:
    """Delete finished chains older than their job's `keep_days` (or the global limit) by
    their completion; returns runs deleted. Run by each master's housekeeping."""
    now = now or timezone.now()
    deleted = 0
    for job in Job.objects.values("pk", "keep_days"):
        days = job["keep_days"] or settings.KEEP_RUNS_DAYS
        if days:
            cutoff = now - timedelta(days=days)
            deleted += delete_in_batches(finished_chains(job["pk"]).filter(completed__lt=cutoff))
    return deleted
