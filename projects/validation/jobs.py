"""A job: its steps, parameters and properties, and the bounds it runs within (timeouts,
retries, concurrency, resources, priority) and what of its runs is kept."""

from projects.definitions import Job, PipelineJob
from projects.notifications import normalize_notifications
from projects.secrets import SecretValues, normalize_job_secrets
from projects.validation.errors import Errors
from projects.validation.fields import (
    LONGEST_TIMEOUT,
    check_description_and_display_name,
    checked_whole,
)
from projects.validation.parameters import normalize_parameters, normalize_properties
from projects.validation.steps import normalize_steps, timeouts

# Statuses a run may be retried after: an aborted run was stopped on purpose, and the others
# never ran or ran well.
RETRYABLE_STATUSES = ("failed", "exception")
DEFAULT_RETRY_ON = ["exception"]
PRIORITY_RANGE = (-1000, 1000)


def normalize_job(errors: Errors, where: str, job: Job, resources: set[str],
                  secrets: SecretValues) -> dict:
    job_secrets, disabled_reason, problems = normalize_job_secrets(job.secrets, secrets)
    for field_name, message in problems:
        errors.add(where, field_name, message)
    check_description_and_display_name(errors, where, job)
    return {
        "identifier": job.identifier,
        "display_name": job.display_name or job.identifier,
        "description": job.description,
        "steps": normalize_steps(errors, where, job.steps),
        "parameters": normalize_parameters(errors, where, job.parameters),
        "properties": normalize_properties(errors, where, job.properties),
        "pipeline": None,
        "enabled": job.enabled is not False,
        "secrets": job_secrets,
        "disabled_reason": disabled_reason,
        **_bounds(errors, where, job, resources),
        "notifications": normalize_notifications(errors, where, job.notifications),
    }


def _bounds(errors: Errors, where: str, job: Job, resources: set[str]) -> dict:
    """A job's timeouts, retries, concurrency limit, resources, priority and retention."""
    retry_on = job.retry_on
    if isinstance(retry_on, str):
        retry_on = [retry_on]
    if not isinstance(retry_on, (list, tuple)) or not all(
        status in RETRYABLE_STATUSES for status in retry_on
    ):
        errors.add(where, "retry_on", f"must be a list of {' and '.join(RETRYABLE_STATUSES)}")
        retry_on = DEFAULT_RETRY_ON
    job_resources = job.resources
    if not isinstance(job_resources, (list, tuple)) or not all(
        isinstance(name, str) for name in job_resources
    ):
        errors.add(where, "resources", "must be a list of resource identifiers")
        job_resources = []
    for name in job_resources:
        if name not in resources:
            errors.add(where, "resources", f"unknown resource {name!r} (declare it in `resources`)")
    retry_delay = job.retry_delay
    if isinstance(retry_delay, bool) or not isinstance(retry_delay, (int, float)) or not 0 <= retry_delay <= LONGEST_TIMEOUT:
        errors.add(where, "retry_delay", f"must be a number of seconds from 0 to {LONGEST_TIMEOUT}")
        retry_delay = 0
    return {
        "timeout": None, "silence_timeout": None, **timeouts(errors, where, job),
        "retries": checked_whole(errors, where, job.retries, "retries", 0, 100),
        "retry_on": sorted(set(retry_on), key=RETRYABLE_STATUSES.index),
        "retry_delay": retry_delay,
        "max_concurrent_runs": checked_whole(
            errors, where, job.max_concurrent_runs, "max_concurrent_runs", 0, 10**6
        ),
        "resources": sorted(set(job_resources)),
        "priority": checked_whole(errors, where, job.priority, "priority", *PRIORITY_RANGE),
        **retention(errors, where, job),
    }


def retention(errors: Errors, where: str, job: Job | PipelineJob) -> dict:
    """How many runs of a job, and for how many days, are kept (None: no limit)."""
    return {
        "keep_runs": checked_whole(errors, where, job.keep_runs, "keep_runs", 1, 10**9, allow_none=True),
        "keep_days": checked_whole(errors, where, job.keep_days, "keep_days", 1, 100_000, allow_none=True),
    }
