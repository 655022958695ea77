"""Sending the outbox (`NotificationDelivery`): claim, send, record the attempt.

Every master's background loop (workers.background) runs the three steps; the database
decides who sends what. A master claims a due delivery with one conditional UPDATE (pending,
due, not claimed or its claim expired -> claimed by this master for `claim_seconds()`), the
way workers claim runs, so of several masters one sends it. It sends outside any
transaction and database thread, then records the attempt, guarded by its claim: a delivered
notification is done, a failed one is tried again after ORCHESTRA_NOTIFICATION_RETRY_DELAY
seconds, doubled at each attempt, until ORCHESTRA_NOTIFICATION_ATTEMPTS were made. A master
that dies between the claim and the record leaves the claim to expire: the delivery is sent
again then, by any master (at least once: receivers tell a repetition by `X-Orchestra-Delivery`).

Times are the database's clock, so that masters with different clocks agree on claims.
"""

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from orchestra.database import atomic, retried_on_conflict
from orchestra.metrics import MASTER
from runs.metrics import NOTIFICATION_DELIVERIES
from runs.models import NotificationAttempt, NotificationDelivery

SIGNATURE_HEADER = "X-Orchestra-Signature-256"
DELIVERY_HEADER = "X-Orchestra-Delivery"
# A claim outlasts any send: a webhook or an SMTP conversation is bounded by the timeout at
# each of its network operations, fewer than ten (connect, greeting, TLS, login, sender,
# recipients, data, end).
SHORTEST_CLAIM_SECONDS = 60
LONGEST_DELAY = 3600
MAX_ERROR_LENGTH = 1000
BATCH = 20

State = NotificationDelivery.State


@dataclass(frozen=True)
class Claimed:
    """A delivery this master may send, with what it needs to (no database access)."""

    pk: int
    identifier: str
    claim: str
    kind: str
    target: str
    secret_variable: str
    payload: dict
    attempt: int


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    started: datetime
    finished: datetime
    status_code: int | None = None
    error: str = ""


def _claimable():
    return NotificationDelivery.objects.filter(state=State.PENDING, next_attempt__lte=Now()).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=Now())
    )


def claim_seconds() -> int:
    return max(SHORTEST_CLAIM_SECONDS, 10 * settings.NOTIFICATION_TIMEOUT)


def claim_due_deliveries(limit: int = BATCH) -> list[Claimed]:
    """Claim up to `limit` due deliveries for this master, oldest first."""
    claimed = []
    candidates = _claimable().order_by("next_attempt", "id").values_list("pk", flat=True)[:limit]
    for pk in list(candidates):
        claim = uuid.uuid4().hex
        if _claimable().filter(pk=pk).update(
            claim=claim, claimed_until=Now() + timedelta(seconds=claim_seconds())
        ):
            delivery = NotificationDelivery.objects.get(pk=pk)
            claimed.append(Claimed(
                pk=pk, identifier=delivery.identifier, claim=claim, kind=delivery.kind,
                target=delivery.target, secret_variable=delivery.secret_variable,
                payload=delivery.payload, attempt=delivery.attempts + 1,
            ))
    return claimed


def send(delivery: Claimed) -> Outcome:
    """Send one claimed delivery; never raises (what went wrong is the outcome)."""
    started = timezone.now()
    try:
        if delivery.kind == NotificationDelivery.Kind.WEBHOOK:
            status_code, error = _post_webhook(delivery)
        else:
            status_code, error = None, _send_email(delivery)
    except Exception as exception:  # noqa: BLE001 (a receiver's failure is recorded, not raised)
        status_code, error = None, f"{type(exception).__name__}: {exception}"
    return Outcome(succeeded=not error, started=started, finished=timezone.now(),
                   status_code=status_code, error=error[:MAX_ERROR_LENGTH])


def signature(secret: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of the body under the secret, in hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would become a GET without the body: the receiver must answer itself.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post_webhook(delivery: Claimed) -> tuple[int | None, str]:
    # The secret is read from the master's environment at each send, never stored; the
    # configuration names the variable and start-up checked that it is set.
    secret = os.environ.get(delivery.secret_variable, "")
    if not secret:
        return None, f"the environment variable {delivery.secret_variable} is not set on this master"
    body = json.dumps(delivery.payload, sort_keys=True).encode()
    request = urllib.request.Request(delivery.target, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "Orchestra",
        SIGNATURE_HEADER: signature(secret, body),
        DELIVERY_HEADER: delivery.identifier,
    })
    try:
        with _opener.open(request, timeout=settings.NOTIFICATION_TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"the receiver answered {error.code} {error.reason}"
    except (urllib.error.URLError, OSError) as error:
        return None, str(getattr(error, "reason", error))


def _send_email(delivery: Claimed) -> str:
    run = delivery.payload
    subject = f"{run['project']}/{run['job']} {run['status']}: run {run['run']}"
    lines = [
        f"Run {run['run']} of {run['project']}/{run['job']} ended {run['status']}.",
        *([run["message"]] if run["message"] else []),
        "",
        run["url"],
    ]
    connection = get_connection(timeout=settings.NOTIFICATION_TIMEOUT)
    message = EmailMessage(subject, "\n".join(lines), to=delivery.target.split("\n"),
                           headers={DELIVERY_HEADER: delivery.identifier}, connection=connection)
    message.send()
    return ""


def retry_delay(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return min(settings.NOTIFICATION_RETRY_DELAY * 2 ** (attempts - 1), LONGEST_DELAY)


@retried_on_conflict
def record_attempt(delivery: Claimed, outcome: Outcome) -> str | None:
    """Record the attempt, if this master still holds the claim; returns the delivery's state
    then (None when the claim was lost)."""
    if outcome.succeeded:
        changes = {"state": State.DELIVERED, "delivered": outcome.finished}
    elif delivery.attempt >= settings.NOTIFICATION_ATTEMPTS:
        changes = {"state": State.FAILED}
    else:
        changes = {"next_attempt": Now() + timedelta(seconds=retry_delay(delivery.attempt))}
    with atomic():
        if not NotificationDelivery.objects.filter(pk=delivery.pk, claim=delivery.claim).update(
            attempts=delivery.attempt, claim="", claimed_until=None, **changes
        ):
            return None
        NotificationAttempt.objects.create(
            delivery_id=delivery.pk, number=delivery.attempt, started=outcome.started,
            finished=outcome.finished, master=MASTER, succeeded=outcome.succeeded,
            status_code=outcome.status_code, error=outcome.error,
        )
        state = changes.get("state", State.PENDING)
        outcome_label = "delivered" if outcome.succeeded else (
            "failed" if state == State.FAILED else "retrying")
        transaction.on_commit(
            lambda: NOTIFICATION_DELIVERIES.labels(MASTER, delivery.kind, outcome_label).inc()
        )
    return state


def deliver_due_notifications() -> int:
    """Claim, send and record in this thread; returns how many were sent. The master's loop
    sends off the database's thread instead (workers.background); this serves commands and
    tests."""
    claimed = claim_due_deliveries()
    for delivery in claimed:
        record_attempt(delivery, send(delivery))
    return len(claimed)
