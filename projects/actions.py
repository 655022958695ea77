"""State changes of jobs and schedules made by people; each writes its audit record in the
same transaction, so a change is never made without its record."""

from orchestra import audit
from orchestra.actions import ChangeRefused
from orchestra.audit import Actor
from orchestra.database import atomic
from projects.models import Job, Schedule


class JobCannotBeEnabled(ChangeRefused):
    """The master disabled the job at its start; the message says why."""


def set_job_enabled(job: Job, enabled: bool, actor: Actor) -> Job:
    """Enable or disable a job; a disabled job cannot be triggered (pending runs stay).

    A job the master disabled for a reason (a secret it could not read) stays disabled:
    JobCannotBeEnabled, until a master starts without that reason.
    """
    with atomic():
        jobs = Job.objects.filter(pk=job.pk, is_enabled=not enabled)
        if enabled:
            reason = Job.objects.filter(pk=job.pk).values_list("disabled_reason", flat=True).first()
            if reason:
                raise JobCannotBeEnabled(f"job {job} cannot be enabled: {reason}")
        changed = jobs.update(is_enabled=enabled)
        if changed:
            audit.record(actor, "job.enable" if enabled else "job.disable", str(job))
    job.is_enabled = enabled
    return job


def set_schedule_enabled(schedule: Schedule, enabled: bool, actor: Actor) -> Schedule:
    with atomic():
        changed = Schedule.objects.filter(pk=schedule.pk, is_enabled=not enabled).update(
            is_enabled=enabled
        )
        if changed:
            audit.record(actor, "schedule.enable" if enabled else "schedule.disable", str(schedule))
    schedule.is_enabled = enabled
    return schedule
