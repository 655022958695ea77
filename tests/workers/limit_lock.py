"""A claim waits for a job's (or a resource's) row lock, then counts what the lock holder did.

One "master" locks the limited job's row (then, in a second round, the resource's row) and,
while holding it, puts a run of that job on a worker; another master meanwhile claims a waiting
run of the job for another worker. Run by tests/workers/test_claim_race.py in a subprocess.
Prints one JSON line: per lock, whether the claim finished while the lock was held, and what it
answered.
"""

import json
import threading

from tests.scenario import set_up_examples

# Long enough for an unguarded claim to finish many times over.
LOCK_HELD_SECONDS = 1.0


def main() -> None:
    set_up_examples()
    from django.db import connection

    from orchestra.audit import SYSTEM
    from orchestra.database import atomic, locked
    from projects.models import Job
    from runs.actions import claim_run, do_trigger_run
    from runs.models import Resource, Run, Status
    from workers.models import Worker

    report = {}
    for lock, job_name in (("job", "exclusive"), ("resource", "deploy-a")):
        job = Job.objects.get(identifier=job_name)
        holder, claimer = (Worker.objects.create(identifier=f"{lock}-{name}", is_connected=True) for name in ("h", "c"))
        waiting, held = do_trigger_run(job, {}, SYSTEM), do_trigger_run(job, {}, SYSTEM)
        lock_taken, release = threading.Event(), threading.Event()

        def hold_the_lock() -> None:
            # As a claim does: the run exists before the lock; under it, it goes to a worker.
            # (Inserting a run under the resource's lock would wait for the claimer's lock of
            # the job on MariaDB, where the foreign key check conflicts with FOR UPDATE.)
            try:
                with atomic():
                    if lock == "job":
                        locked(Job.objects.filter(pk=job.pk)).get()
                    else:
                        locked(Resource.objects.filter(identifier="deploy-prod")).get()
                    lock_taken.set()
                    release.wait()
                    Run.objects.filter(pk=held.pk).update(worker=holder, status=Status.RUNNING)
            finally:
                connection.close()

        answers = []

        def claim() -> None:
            try:
                answers.append(claim_run(waiting, claimer).name)
            finally:
                connection.close()

        holding = threading.Thread(target=hold_the_lock)
        holding.start()
        lock_taken.wait()
        claiming = threading.Thread(target=claim)
        claiming.start()
        claiming.join(LOCK_HELD_SECONDS)
        finished_while_locked = not claiming.is_alive()
        release.set()
        holding.join()
        claiming.join()
        report[lock] = {"finished_while_locked": finished_while_locked, "claim": answers[0]}
        Run.objects.all().delete()
    connection.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
