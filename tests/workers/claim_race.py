"""Four "masters" claim runs for one worker at the same moment, as a worker's old and new
connection through two masters may.

Run by tests/workers/test_claim_race.py in a subprocess. Prints one JSON line: per round, how
many runs the worker held.
"""

import json

from tests.scenario import at_once, set_up_examples

MASTERS = 4
ROUNDS = 10
EXECUTORS = 3


def main() -> None:
    set_up_examples()
    from django.db import connection

    from orchestra.audit import SYSTEM
    from projects.models import Job
    from runs.actions import claim_runs, do_trigger_run
    from runs.models import Run
    from workers.models import Worker

    hello = Job.objects.get(identifier="hello")
    held = []
    for round_number in range(ROUNDS):
        worker = Worker.objects.create(identifier=f"w{round_number}", executors=EXECUTORS, is_connected=True)
        for _ in range(EXECUTORS * MASTERS):
            do_trigger_run(hello, {}, SYSTEM)
        at_once(*[lambda: claim_runs(worker)] * MASTERS)
        held.append(Run.objects.filter(worker=worker).count())
        Run.objects.filter(worker=None).delete()
    connection.close()
    print(json.dumps({"held": held}))


if __name__ == "__main__":
    main()
