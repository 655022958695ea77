"""Four masters starting at once load the same configuration into an empty database.

Run by tests/projects/test_configuration_postgres.py against a fresh PostgreSQL database.
"""

import json
import os
import threading

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from projects.configuration import load_configuration
    from projects.models import Job, Project, Schedule

    call_command("migrate", verbosity=0)
    barrier = threading.Barrier(4)
    errors = []

    def master() -> None:
        barrier.wait()
        try:
            load_configuration("examples.configuration")
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=master) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({
        "errors": errors,
        "projects": Project.objects.count(),
        "jobs": Job.objects.filter(is_configured=True).count(),
        "schedules": Schedule.objects.count(),
    }))
    connection.close()


if __name__ == "__main__":
    main()
