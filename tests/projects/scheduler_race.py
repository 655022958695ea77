"""Several "masters" (threads, each with its own database connection) tick the same schedules.

Run by tests/projects/test_scheduler_race.py in a subprocess (tests/scenario.py): the database is chosen
when Django's settings load: ORCHESTRA_DATABASE_URL must name a fresh database (SQLite, PostgreSQL,
MariaDB).
Prints one JSON line: for each tick, how many runs the masters triggered together.
"""

import json
import sys
from datetime import datetime, timezone

from tests.scenario import at_once, set_up_examples

MASTERS = 4


def main() -> None:
    set_up_examples()
    from django.db import connection

    from projects.models import Schedule
    from projects.scheduler import tick
    from runs.actions import finish_run
    from runs.models import ACTIVE_STATUSES, Run

    schedule = Schedule.objects.get(identifier="hello-hourly")
    results = {}
    for hour in (9, 10, 11, 12, 13):
        now = datetime(2026, 3, 1, hour, 0, 30, tzinfo=timezone.utc)
        results[f"{hour}:00"] = sum(at_once(*[lambda: tick(now)] * MASTERS))
        results[f"{hour}:00 active"] = Run.objects.filter(
            schedule=schedule, status__in=ACTIVE_STATUSES
        ).count()
        if hour == 11:
            for run in Run.objects.filter(schedule=schedule, status__in=ACTIVE_STATUSES):
                finish_run(run, "succeeded")
    results["runs"] = Run.objects.filter(schedule=schedule).count()
    connection.close()
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
