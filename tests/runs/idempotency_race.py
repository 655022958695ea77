"""Four "masters" (threads with their own connections) trigger with the same Idempotency-Key
at once.

Run by tests/runs/test_idempotency_race.py against a fresh database of each kind. Each thread's first look for the key is held until every thread has looked (and
found nothing), so that every round is the race itself: all of them try to store the key.
Prints, per round, what each thread answered and how many runs exist.
"""

import json
import threading

from tests.scenario import at_once, set_up_examples

ROUNDS = 6
MASTERS = 4


def main() -> None:
    set_up_examples()
    from django.contrib.auth.models import User
    from django.db import connection

    from orchestra.audit import Actor
    from projects.models import Job
    from runs import actions
    from runs.models import Run

    job = Job.objects.get(project__identifier="examples", identifier="echo")
    actor = Actor(user=User.objects.create_user("racer"))
    looked = threading.local()
    lookup = actions._run_of_key

    def held_lookup(*args):
        found = lookup(*args)
        if not getattr(looked, "once", False):
            looked.once = True
            gate.wait()
        return found

    actions._run_of_key = held_lookup

    def trigger(key: str) -> list:
        looked.once = False
        run, created = actions.do_trigger_run_once(job, {"text": key}, actor, key)
        return [run.identifier, created]

    report = []
    for round_number in range(ROUNDS):
        key = f"round-{round_number}"
        gate = threading.Barrier(MASTERS)
        answers = at_once(*[lambda: trigger(key)] * MASTERS)
        report.append({
            "answers": answers,
            "runs": list(Run.objects.filter(parameters__text=key).values_list("identifier", flat=True)),
        })
    connection.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
