"""State changes of workers made by people; each writes its audit record in the same
transaction, so a change is never made without its record."""

from django.db import transaction

from orchestra import audit
from orchestra.audit import Actor
from workers.models import Worker


def set_worker_enabled(worker: Worker, enabled: bool, actor: Actor) -> Worker:
    """A disabled worker is refused at its next connection and receives no new runs."""
    with transaction.atomic():
        changed = Worker.objects.filter(pk=worker.pk, is_enabled=not enabled).update(
            is_enabled=enabled
        )
        if changed:
            audit.record(actor, "worker.enable" if enabled else "worker.disable", worker.identifier)
    worker.is_enabled = enabled
    return worker
