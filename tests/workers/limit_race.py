"""Four "masters" claim at the same moment, each for a worker of its own, runs of a job limited
to one run at a time, then runs of two jobs holding one resource of capacity 1.

Run by tests/workers/test_claim_race.py in a subprocess. Prints one JSON line: per round, how
many runs of the limited job, then of the resource's jobs, were on workers.
"""

import json

from tests.scenario import at_once, set_up_examples

MASTERS = 4
ROUNDS = 5


def main() -> None:
    set_up_examples()
    from django.db import connection

    from orchestra.audit import SYSTEM
    from projects.models import Job
    from runs.actions import claim_runs, do_trigger_run
    from runs.models import Run
    from workers.models import Worker

    exclusive = Job.objects.get(identifier="exclusive")
    deploys = list(Job.objects.filter(identifier__in=["deploy-a", "deploy-b"]))
    report = {"exclusive": [], "deploy-prod": []}
    for round_number in range(ROUNDS):
        for name, jobs in (("exclusive", [exclusive]), ("deploy-prod", deploys)):
            workers = [
                Worker.objects.create(identifier=f"{name}-{round_number}-{index}", executors=2, is_connected=True)
                for index in range(MASTERS)
            ]
            for _ in range(MASTERS):
                for job in jobs:
                    do_trigger_run(job, {}, SYSTEM)
            at_once(*[lambda worker=worker: claim_runs(worker) for worker in workers])
            report[name].append(Run.objects.filter(worker__in=workers).count())
            Run.objects.all().delete()
    connection.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
