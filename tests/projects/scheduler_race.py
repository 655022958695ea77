"""Several "masters" (threads, each with its own database connection) tick the same schedules.

Run by tests/projects/test_scheduler_postgres.py in a subprocess, because the database is chosen
when Django's settings load: ORCHESTRA_DATABASE_URL must name a fresh PostgreSQL database.
Prints one JSON line: for each tick, how many runs the masters triggered together.
"""

import json
import os
import sys
import threading
from datetime import datetime, timezone

import django

MASTERS = 4


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from projects.configuration import load_configuration
    from projects.models import Schedule
    from projects.scheduler import tick
    from runs.actions import finish_run
    from runs.models import ACTIVE_STATUSES, Run

    call_command("migrate", verbosity=0)
    load_configuration("examples.configuration")
    schedule = Schedule.objects.get(identifier="hello-hourly")

    def all_masters_tick(now: datetime) -> int:
        barrier = threading.Barrier(MASTERS)
        counts = []

        def master() -> None:
            from django.db import connection as own_connection

            barrier.wait()
            try:
                counts.append(tick(now))
            finally:
                own_connection.close()

        threads = [threading.Thread(target=master) for _ in range(MASTERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(counts)

    results = {}
    for hour in (9, 10, 11, 12, 13):
        now = datetime(2026, 3, 1, hour, 0, 30, tzinfo=timezone.utc)
        results[f"{hour}:00"] = all_masters_tick(now)
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
