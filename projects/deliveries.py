"""A hook's deliveries: their signature, and the runs each triggers, once per delivery
(docs/service.md, "Hooks").

A delivery is signed the way GitHub signs webhooks: `X-Hub-Signature-256: sha256=<hex>`, the
HMAC-SHA256 of the raw body under the hook's secret. The secret is read from the environment
variable the configuration names (or the file `<variable>_FILE` names), in the process that
serves the service; it is never stored.
"""

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError
from django.utils import timezone

from orchestra.audit import Actor
from orchestra.database import atomic, retried_on_conflict
from orchestra.environment import env_str
from projects.hooks import parameters_from_payload
from projects.models import Hook, HookDelivery, Job
from runs.actions import do_trigger_run
from runs.models import Run
from runs.parameters import ParameterError

SIGNATURE_PREFIX = "sha256="
# GitHub lets a delivery be sent again by hand for 3 days (GitHub Enterprise Server: 7), with
# its first identifier: remembered that long, such a redelivery triggers nothing new.
DELIVERY_LIFETIME = timedelta(days=7)


class DeliveryReused(Exception):
    """A delivery identifier sent again with another body than the one it first came with."""


def hook_secret(hook: Hook) -> str:
    """The hook's secret; "" while its variable is unset, empty or unreadable (an empty key
    would let anyone sign)."""
    try:
        return env_str(hook.secret_variable, "")
    except ImproperlyConfigured:
        return ""


def signature_matches(secret: str, body: bytes, signature: str) -> bool:
    """Whether `signature` (the X-Hub-Signature-256 header) signs `body` under `secret`,
    compared in constant time."""
    expected = SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def actor_of(hook: Hook, address: str | None) -> Actor:
    """Who triggers a hook's runs: the hook itself, audited as `hook:<project>/<hook>`."""
    return Actor(address=address, label=f"hook:{hook}")


@retried_on_conflict
def deliver(hook: Hook, payload: Any, body: bytes, delivery: str | None,
            address: str | None) -> tuple[list[str], bool]:
    """Trigger the hook's jobs with their parameters taken from `payload`, all or none, unless
    `delivery` came in the last 7 days: then the runs it triggered. Returns the runs'
    identifiers and whether they were triggered now.

    Of two deliveries with the same identifier at once, on any masters, the unique constraint
    lets one store it: the other waits for it (on MongoDB it meets a write conflict and starts
    again), gets the violation or finds the delivery, and answers the first one's runs. The delivery and its runs are stored in one transaction.

    Raises DeliveryReused when the identifier came with another body; PayloadFieldMissing,
    ParameterError and JobDisabled when the payload or a job refuses the trigger.
    """
    actor = actor_of(hook, address)
    if delivery is None:
        return _trigger(hook, payload, actor), True
    digest = hashlib.sha256(body).hexdigest()
    earlier = _runs_of_delivery(hook, delivery, digest)
    if earlier is not None:
        return earlier, False
    try:
        with atomic():
            # An expired delivery makes way for the new one.
            HookDelivery.objects.filter(
                hook=hook, delivery=delivery, created__lte=_delivery_cutoff()
            ).delete()
            # The delivery before its runs: a repeat racing this one waits here, before doing
            # any work it would have to roll back.
            stored = HookDelivery.objects.create(hook=hook, delivery=delivery, body_digest=digest)
            runs = _trigger(hook, payload, actor)
            HookDelivery.objects.filter(pk=stored.pk).update(runs=runs)
    except IntegrityError:
        earlier = _runs_of_delivery(hook, delivery, digest)
        if earlier is None:
            raise  # not the delivery's constraint
        return earlier, False
    return runs, True


def _trigger(hook: Hook, payload: Any, actor: Actor) -> list[str]:
    parameters = parameters_from_payload(hook.jobs, payload)
    jobs = {
        job.identifier: job for job in Job.objects.select_related("project").filter(
            project_id=hook.project_id, identifier__in=list(parameters)
        )
    }
    runs = []
    with atomic():
        # In one order on every database (PostgreSQL's JSON keeps no order of keys).
        for name, given in sorted(parameters.items()):
            try:
                run = do_trigger_run(jobs[name], given, actor, source=Run.Source.HOOK, hook=hook)
            except ParameterError as error:
                raise ParameterError(f"jobs.{name}.{error.field}", f"job {name!r}: {error.message}")
            runs.append(run.identifier)
    return runs


def _runs_of_delivery(hook: Hook, delivery: str, digest: str) -> list[str] | None:
    """The runs the hook's unexpired `delivery` triggered, None when there is no such delivery."""
    stored = HookDelivery.objects.filter(
        hook=hook, delivery=delivery, created__gt=_delivery_cutoff()
    ).first()
    if stored is None:
        return None
    if stored.body_digest != digest:
        raise DeliveryReused("this X-GitHub-Delivery came with another body: the delivery "
                             "identifier must be new for a new payload")
    return stored.runs


def _delivery_cutoff():
    """Deliveries stored at or before this moment are forgotten."""
    return timezone.now() - DELIVERY_LIFETIME


def delete_expired_deliveries() -> int:
    """Forget deliveries older than their lifetime (every master's hourly housekeeping);
    returns how many."""
    return HookDelivery.objects.filter(created__lte=_delivery_cutoff()).delete()[0]


def hooks_without_secret() -> list[Hook]:
    """Configured hooks that refuse every delivery because their secret is not set."""
    hooks = Hook.objects.filter(is_configured=True).select_related("project")
    return [hook for hook in hooks if not hook_secret(hook)]
