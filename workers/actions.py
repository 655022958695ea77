"""State changes of workers made by people; each writes its audit record."""

from orchestra import audit
from orchestra.audit import Actor
from workers.models import Worker


def set_worker_enabled(worker: Worker, enabled: bool, actor: Actor) -> Worker:
    """A disabled worker is refused at its next connection and receives no new runs."""
    changed = Worker.objects.filter(pk=worker.pk, is_enabled=not enabled).update(
        is_enabled=enabled
    )
    worker.is_enabled = enabled
    if changed:
        audit.record(actor, "worker.enable" if enabled else "worker.disable", worker.identifier)
    return worker
