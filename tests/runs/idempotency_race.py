"""Four "masters" (threads with their own connections) trigger with the same Idempotency-Key
at once.

Run by tests/runs/test_idempotency_race.py against a fresh database of each kind. Each thread's first look for the key is held until every thread has looked (and
found nothing), so that every round is the race itself: all of them try to store the key.
Prints, per round, what each thread answered and how many runs exist.
"""

import json

from tests.scenario import race_after_a_look, set_up_examples

ROUNDS = 6
MASTERS = 4


def main() -> None:
    set_up_examples()
    from django.contrib.auth.models import User
    from django.db import connection

    from orchestra.audit import Actor
    from projects.models import Job
    from runs import idempotency
    from runs.models import Run

    job = Job.objects.get(project__identifier="examples", identifier="echo")
    actor = Actor(user=User.objects.create_user("racer"))

    def trigger(key: str) -> list:
        run, created = idempotency.do_trigger_run_once(job, {"text": key}, actor, key)
        return [run.identifier, created]

    def runs_of(text: str) -> list[str]:
        return list(Run.objects.filter(parameters__text=text).values_list("identifier", flat=True))

    keys = [f"round-{round_number}" for round_number in range(ROUNDS)]
    report = race_after_a_look(idempotency, "_run_of_key", trigger, keys, MASTERS, runs_of)
    connection.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
