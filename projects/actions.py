"""State changes of jobs and schedules made by people; each writes its audit record in the
same transaction, so a change is never made without its record."""


from orchestra import audit
from orchestra.audit import Actor
from orchestra.database import atomic
from projects.models import Job, Schedule


def set_job_enabled(job: Job, enabled: bool, actor: Actor) -> Job:
    """Enable or disable a job; a disabled job cannot be triggered (pending runs stay)."""
    with atomic():
        changed = Job.objects.filter(pk=job.pk, is_enabled=not enabled).update(is_enabled=enabled)
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
