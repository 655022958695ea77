"""Four "masters" (threads, each with its own database connection) claim runs for one worker
at the same moment, as a worker's old and new connection through two masters may.

Run by tests/workers/test_claim_race.py in a subprocess, against the database that
ORCHESTRA_DATABASE_URL names. Prints one JSON line: per round, how many runs the worker held.
"""

import json
import os
import threading

import django

MASTERS = 4
ROUNDS = 10
EXECUTORS = 3


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from orchestra.audit import SYSTEM
    from projects.configuration import load_configuration
    from projects.models import Job
    from runs.actions import claim_runs, do_trigger_run
    from runs.models import Run
    from workers.models import Worker

    call_command("migrate", verbosity=0)
    load_configuration("examples.configuration")
    hello = Job.objects.get(identifier="hello")
    held = []
    for round_number in range(ROUNDS):
        worker = Worker.objects.create(identifier=f"w{round_number}", executors=EXECUTORS, is_connected=True)
        for _ in range(EXECUTORS * MASTERS):
            do_trigger_run(hello, {}, SYSTEM)
        barrier = threading.Barrier(MASTERS)

        def master() -> None:
            try:
                barrier.wait()
                claim_runs(worker)
            finally:
                connection.close()

        threads = [threading.Thread(target=master) for _ in range(MASTERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        held.append(Run.objects.filter(worker=worker).count())
        Run.objects.filter(worker=None).delete()
    connection.close()
    print(json.dumps({"held": held}))


if __name__ == "__main__":
    main()
