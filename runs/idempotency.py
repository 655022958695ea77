"""A trigger sent with an Idempotency-Key: the first creates the run, a repeat within 24 hours
answers that run instead of creating another, from any master (the key's unique constraint
decides a race)."""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError
from django.utils import timezone

from orchestra.audit import Actor
from orchestra.database import atomic, retried_on_conflict
from runs.actions import do_trigger_run
from runs.models import IdempotencyKey, Run


class KeyReused(Exception):
    """An idempotency key sent again with another request than the one it was first sent with."""


class KeyRunDeleted(Exception):
    """The run an idempotency key created has been deleted since."""


# How long a trigger's idempotency key is remembered.
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)


@retried_on_conflict
def do_trigger_run_once(job, parameters: dict | None, actor: Actor, key: str, *,
                        priority: int | None = None) -> tuple[Run, bool]:
    """`do_trigger_run`, unless `actor` sent `key` with a trigger in the last 24 hours: then the
    run that trigger created. Returns the run and whether it was created now.

    Of two triggers with the same key at once, on any masters, the key's unique constraint lets
    one store it: the other waits for it (PostgreSQL waits on the index entry, SQLite on the
    database's lock; on MongoDB it meets a write conflict and starts again), gets the violation
    or finds the key, and answers the first one's run. The key and its run
    are stored in one transaction, so neither exists without the other.

    Raises KeyReused when the key came with another job, parameters or priority, KeyRunDeleted
    when its run has been deleted since; and what `do_trigger_run` raises.
    """
    request = hashlib.sha256(json.dumps(
        [job.project.identifier, job.identifier, parameters, priority], sort_keys=True,
    ).encode()).hexdigest()
    earlier = _run_of_key(actor.user, key, request)
    if earlier is not None:
        return earlier, False
    try:
        with atomic():
            # An expired key makes way for the new trigger.
            IdempotencyKey.objects.filter(
                user=actor.user, key=key, created__lte=_key_cutoff()
            ).delete()
            # The key before the run: a trigger racing this one waits at the key, before doing
            # any work it would have to roll back.
            stored = IdempotencyKey.objects.create(user=actor.user, key=key, request=request)
            run = do_trigger_run(job, parameters, actor, priority=priority)
            IdempotencyKey.objects.filter(pk=stored.pk).update(run=run)
    except IntegrityError:
        earlier = _run_of_key(actor.user, key, request)
        if earlier is None:
            raise  # not the key's constraint
        return earlier, False
    return run, True


def _run_of_key(user, key: str, request: str) -> Run | None:
    """The run `user`'s unexpired `key` created, None when there is no such key."""
    stored = (
        IdempotencyKey.objects.filter(user=user, key=key, created__gt=_key_cutoff())
        .select_related("run").first()
    )
    if stored is None:
        return None
    if stored.request != request:
        raise KeyReused("this Idempotency-Key was used for another request (another job, "
                        "parameters or priority): use a new key")
    if stored.run is None:
        raise KeyRunDeleted("the run this Idempotency-Key created has been deleted")
    return stored.run


def _key_cutoff():
    """Keys created at or before this moment have expired."""
    return timezone.now() - IDEMPOTENCY_KEY_LIFETIME


def delete_expired_idempotency_keys() -> int:
    """Forget the keys older than their lifetime (every master's hourly housekeeping); returns
    how many."""
    return IdempotencyKey.objects.filter(created__lte=_key_cutoff()).delete()[0]
