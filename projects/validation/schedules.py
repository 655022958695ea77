"""A schedule: a cron expression in a timezone that triggers a job of its project with the
parameters it gives."""

import zoneinfo

from croniter import croniter

from projects.definitions import Schedule
from projects.validation.errors import Errors
from projects.validation.parameters import check_given_parameters

# The length of the database column expressions go to (projects.models).
MAX_CRON_LENGTH = 200


def normalize_schedule(errors: Errors, where: str, schedule: Schedule, jobs: dict[str, dict]) -> dict:
    job = jobs.get(schedule.job) if isinstance(schedule.job, str) else None
    if job is None:
        errors.add(where, "job", f"unknown job {schedule.job!r}")
        parameters = {}
    else:
        parameters = check_given_parameters(errors, where, job["parameters"], schedule.parameters)
    if (
        not isinstance(schedule.cron, str)
        or len(schedule.cron) > MAX_CRON_LENGTH
        or not croniter.is_valid(schedule.cron)
    ):
        errors.add(where, "cron", f"invalid cron expression {schedule.cron!r}")
    try:
        zoneinfo.ZoneInfo(schedule.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        errors.add(where, "timezone", f"unknown timezone {schedule.timezone!r}")
    return {
        "identifier": schedule.identifier,
        "job": schedule.job,
        "expression": schedule.cron,
        "timezone": schedule.timezone,
        "parameters": parameters,
        "enabled": schedule.enabled is not False,
    }
