"""State changes of workers made by people; each writes its audit record in the same
transaction, so a change is never made without its record."""


from orchestra import audit
from orchestra.audit import Actor
from orchestra.database import atomic
from workers.models import Worker


def set_worker_enabled(worker: Worker, enabled: bool, actor: Actor) -> Worker:
    """A disabled worker is refused at its next connection and receives no new runs."""
    with atomic():
        changed = Worker.objects.filter(pk=worker.pk, is_enabled=not enabled).update(
            is_enabled=enabled
        )
        if changed:
            audit.record(actor, "worker.enable" if enabled else "worker.disable", worker.identifier)
    worker.is_enabled = enabled
    return worker


def claim_worker(worker: Worker, actor: Actor) -> bool:
    """Give a worker whose owner was deleted to `actor`'s user; False if it has an owner.

    Without this, an identifier would stay refused for good once its user is deleted (every
    `make run` after an administrator deleted `local-worker`).
    """
    with atomic():
        claimed = Worker.objects.filter(pk=worker.pk, owner__isnull=True).update(owner=actor.user)
        if claimed:
            audit.record(actor, "worker.claim", worker.identifier)
    if claimed:
        worker.owner = actor.user
    return bool(claimed)
