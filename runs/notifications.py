"""Notifications of runs' ends: which ends a notification asks for, and what it says.

A project and each job declare notifications (projects.notifications validates them; they are
stored with the project and the job). When a run ends (`run_ended`, connected in runs/apps.py),
each notification of its project and its job whose `on` rule holds becomes a row of the outbox
(`NotificationDelivery`), in the transaction that ended the run: a master that dies right after
the end loses none. `runs.notification_delivery` sends them.
"""

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Now

from orchestra.database import as_stored, insert
from runs.models import FINAL_STATUSES, NotificationDelivery, Run, Status, shown_recipient

ON_ALL = "all"
ON_FAILURES = "failures"
ON_CHANGES = "changes"
ON_CHOICES = (ON_ALL, ON_FAILURES, ON_CHANGES)
# The job failed, or Orchestra did: someone should look. An aborted run was stopped on purpose.
FAILURE_STATUSES = (Status.FAILED, Status.EXCEPTION)


def target(notification: dict) -> str:
    """Where a declared notification goes: a webhook's URL, or the addresses one per line."""
    if notification["kind"] == NotificationDelivery.Kind.WEBHOOK:
        return notification["url"]
    return "\n".join(notification["to"])


def declared_notifications(job) -> list[dict]:
    """The notifications of the job's runs' ends as pages and the service show them: its
    project's, then its own, each with who declared it, whom it tells and on which rule."""
    return [
        {"declared_by": declared_by, "kind": notification["kind"], "on": notification["on"],
         "to": shown_recipient(notification["kind"], target(notification))}
        for declared_by, notifications in (("project", job.project.notifications),
                                           ("job", job.notifications))
        for notification in notifications
    ]


def is_wanted(on: str, status: str, previous_status: str | None) -> bool:
    """Whether a notification with rule `on` tells of a run that ended `status`, the job's
    previous ended run having ended `previous_status` (None: it is the job's first)."""
    if on == ON_ALL:
        return True
    if on == ON_FAILURES:
        return status in FAILURE_STATUSES
    if on == ON_CHANGES:
        return status != previous_status
    raise ValueError(f"unknown notification rule {on!r}")


def previous_status(run: Run) -> str | None:
    """The status of the job's run that ended last before `run`."""
    earlier = (
        Run.objects.filter(job_id=run.job_id, status__in=FINAL_STATUSES, completed__lte=run.completed)
        .exclude(pk=run.pk)
        .order_by(F("completed").desc(), "-id")
    )
    return earlier.values_list("status", flat=True).first()


def run_page_url(run: Run) -> str:
    return f"{settings.PUBLIC_URL}{run.get_absolute_url()}"


def describe_end(run: Run, status: str) -> dict:
    """What every notification of the run's end says: the webhook's JSON body, the mail's text."""
    return {
        "run": run.identifier,
        "project": run.project.identifier,
        "job": run.job.identifier,
        "status": status,
        "message": run.status_message,
        "url": run_page_url(run),
        "completed": as_stored(run.completed).isoformat() if run.completed else None,
    }


def queue_notifications(sender, run: Run, status: str, **kwargs) -> list[NotificationDelivery]:
    """`run_ended`: write the outbox rows of the run's end, in its transaction."""
    declared = [*run.project.notifications, *run.job.notifications]
    if not declared:
        return []
    previous = previous_status(run) if any(n["on"] == ON_CHANGES for n in declared) else None
    payload = describe_end(run, status)
    deliveries = [
        NotificationDelivery(
            run=run, kind=notification["kind"], target=target(notification), payload=payload,
            secret_variable=notification.get("secret_variable", ""),
            # Due at once by the database's clock, which the claims read: Python's clock has
            # microseconds that SQLite's Now() lacks, so it could look a moment ahead.
            next_attempt=Now(),
        )
        for notification in declared
        if is_wanted(notification["on"], status, previous)
    ]
    return insert(deliveries)
