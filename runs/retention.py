"""How long runs and their logs are kept: a job's `keep_runs` (its last N finished runs) and
`keep_days`, and ORCHESTRA_KEEP_RUNS_DAYS for every job."""

from django.conf import settings


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
