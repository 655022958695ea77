"""Four "masters" (threads with their own connections) send the same outbox at once.

Run by tests/runs/test_notification_race.py against a fresh SQLite file and PostgreSQL
database. Deliveries to a webhook receiver of this process are queued, then every master
claims, sends and records what is due until nothing is; the receiver's first answers include
500s, so retries race too. Prints how often the receiver got each delivery, the attempts each
delivery has, their states, and how many each master sent.
"""

import json
import os
from collections import Counter

from tests.receivers import WebhookReceiver
from tests.scenario import at_once, set_up_examples

MASTERS = 4
DELIVERIES = 40
FAILURES = 20
SECRET_VARIABLE = "ORCHESTRA_RACE_HOOK_SECRET"


def main() -> None:
    os.environ[SECRET_VARIABLE] = "race secret"
    set_up_examples()
    from django.conf import settings
    from django.db import connection
    from django.db.models.functions import Now
    from django.utils import timezone

    from orchestra.database import insert
    from projects.models import Job
    from runs.models import NotificationAttempt, NotificationDelivery, Run, Status
    from runs.notification_delivery import claim_due_deliveries, record_attempt, send

    # Retries are due at once: the race is about who sends, not when.
    settings.NOTIFICATION_RETRY_DELAY = 0
    job = Job.objects.select_related("project").get(project__identifier="examples", identifier="fail")
    run = Run.objects.create(project=job.project, job=job, status=Status.FAILED)

    def master() -> int:
        sent = 0
        while claimed := claim_due_deliveries(limit=5):
            for delivery in claimed:
                record_attempt(delivery, send(delivery))
                sent += 1
        return sent

    # Every other answer at first is a failure: its retry is claimed again by any master.
    with WebhookReceiver(answers=[500, 204] * FAILURES) as receiver:
        insert([
            NotificationDelivery(run=run, kind="webhook", target=receiver.url, payload={"n": n},
                                 secret_variable=SECRET_VARIABLE, next_attempt=Now())
            for n in range(DELIVERIES)
        ])
        sent = at_once(*[master] * MASTERS)
        received = Counter(r.headers["X-Orchestra-Delivery"] for r in receiver.deliveries())
    attempts = Counter(NotificationAttempt.objects.values_list("delivery__identifier", flat=True))
    states = Counter(NotificationDelivery.objects.values_list("state", flat=True))
    connection.close()
    print(json.dumps({"received": received, "attempts": attempts, "states": states, "sent": sent}))


if __name__ == "__main__":
    main()
