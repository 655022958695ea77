"""Four "masters" (threads with their own connections) receive the same hook delivery at once.

Run by tests/projects/test_delivery_race.py against a fresh SQLite file and PostgreSQL
database. Each thread's first look for the delivery is held until every thread has looked (and
found nothing), so that every round is the race itself: all of them try to store it. Prints,
per round, what each thread answered and which runs exist.
"""

import json

from tests.scenario import race_after_a_look, set_up_examples

ROUNDS = 6
MASTERS = 4


def main() -> None:
    set_up_examples()
    from django.db import connection

    from projects import deliveries
    from projects.models import Hook
    from runs.models import Run

    hook = Hook.objects.select_related("project").get(project__identifier="examples", identifier="echo")

    def deliver(delivery: str) -> list:
        body = json.dumps({"text": delivery}).encode()
        runs, created = deliveries.deliver(hook, json.loads(body), body, delivery, None)
        return [runs, created]

    def runs_of(text: str) -> list[str]:
        return list(Run.objects.filter(parameters__text=text).values_list("identifier", flat=True))

    delivery_ids = [f"delivery-{round_number}" for round_number in range(ROUNDS)]
    report = race_after_a_look(deliveries, "_runs_of_delivery", deliver, delivery_ids, MASTERS, runs_of)
    connection.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
