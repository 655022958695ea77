"""Cron schedules: each tick triggers one run, across any number of masters.

`decide` is the whole policy as a pure function. `tick` applies it to every schedule and
claims a tick with a conditional UPDATE of `Schedule.last_tick` (from the value it read to the
new tick): only one master changes the row, so only one triggers the run. runmaster calls
`tick()` every ORCHESTRA_SCHEDULER_SECONDS.

Policy:
- a schedule seen for the first time starts from now: its latest past tick is recorded
  without a run, and the next tick triggers;
- after downtime through several ticks, only the latest one triggers (one catch-up run);
- while the previous run of the schedule is pending or running, a tick is consumed without a
  run (single concurrent run), and so are the ticks of a disabled schedule or job, so that
  re-enabling does not trigger a catch-up run at once.
"""

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter
from django.utils import timezone

from orchestra.audit import SYSTEM
from orchestra.database import atomic, retried_on_conflict
from projects.models import Schedule
from runs.actions import JobDisabled, do_trigger_run
from runs.models import ACTIVE_STATUSES, Run
from runs.parameters import ParameterError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickDecision:
    tick: datetime
    # False: the tick is recorded as done without a run.
    trigger: bool
    reason: str = ""


def latest_tick(expression: str, timezone_name: str, now: datetime) -> datetime:
    """The last tick at or before `now`, in UTC (cron fields read in the schedule's timezone)."""
    local_now = now.astimezone(zoneinfo.ZoneInfo(timezone_name))
    # get_prev is strictly before its start; a microsecond later includes a tick at `now`.
    tick = croniter(expression, local_now + timedelta(microseconds=1)).get_prev(datetime)
    return tick.astimezone(zoneinfo.ZoneInfo("UTC"))


def next_tick(expression: str, timezone_name: str, now: datetime) -> datetime:
    """The first tick after `now`, in UTC: what the website shows."""
    local_now = now.astimezone(zoneinfo.ZoneInfo(timezone_name))
    tick = croniter(expression, local_now).get_next(datetime)
    return tick.astimezone(zoneinfo.ZoneInfo("UTC"))


def decide(
    now: datetime,
    expression: str,
    timezone_name: str,
    last_tick: datetime | None,
    previous_run_active: bool,
    enabled: bool = True,
) -> TickDecision | None:
    """The tick to record now and whether it triggers a run; None when no tick is due."""
    tick = latest_tick(expression, timezone_name, now)
    if last_tick is None:
        return TickDecision(tick, trigger=False, reason="first sight of the schedule")
    if tick <= last_tick:
        return None
    if not enabled:
        return TickDecision(tick, trigger=False, reason="disabled")
    if previous_run_active:
        return TickDecision(tick, trigger=False, reason="previous run still active")
    return TickDecision(tick, trigger=True)


def fires(schedule: Schedule) -> bool:
    """Whether the schedule's ticks trigger runs: it and its job can be triggered."""
    return schedule.is_enabled and schedule.is_configured and schedule.job.can_be_triggered


def schedule_next_tick(schedule: Schedule, now: datetime | None = None) -> datetime | None:
    """When the schedule next triggers a run; None while it cannot (disabled, or its job)."""
    if not fires(schedule):
        return None
    return next_tick(schedule.expression, schedule.timezone, now or timezone.now())


def tick(now: datetime | None = None) -> int:
    """Trigger the runs of every due schedule; returns how many were triggered."""
    now = now or timezone.now()
    triggered = 0
    schedules = Schedule.objects.filter(is_configured=True).select_related("job", "project")
    for schedule in schedules:
        if _tick_schedule(schedule, now):
            triggered += 1
    return triggered


@retried_on_conflict
def _tick_schedule(schedule: Schedule, now: datetime) -> bool:
    active = Run.objects.filter(schedule=schedule, status__in=ACTIVE_STATUSES).exists()
    decision = decide(
        now,
        schedule.expression,
        schedule.timezone,
        schedule.last_tick,
        previous_run_active=active,
        enabled=fires(schedule),
    )
    if decision is None:
        return False
    with atomic():
        claimed = Schedule.objects.filter(pk=schedule.pk, last_tick=schedule.last_tick).update(
            last_tick=decision.tick
        )
        if not claimed:
            return False  # another master took this tick
        if not decision.trigger:
            logger.debug("schedule %s: tick %s without a run (%s)", schedule, decision.tick, decision.reason)
            return False
        try:
            with atomic():
                run = do_trigger_run(
                    schedule.job,
                    schedule.parameters,
                    SYSTEM,
                    source=Run.Source.SCHEDULE,
                    schedule=schedule,
                )
        except (JobDisabled, ParameterError) as error:
            # The tick stays consumed: retrying it every few seconds would not fix this.
            logger.warning("schedule %s: cannot trigger tick %s: %s", schedule, decision.tick, error)
            return False
        Schedule.objects.filter(pk=schedule.pk).update(last_run=run)
    logger.info("schedule %s: triggered run %s for tick %s", schedule, run.identifier, decision.tick)
    return True
