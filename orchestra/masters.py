"""The master registry: every `runmaster` process records itself and keeps a heartbeat.

A master is alive while it has not recorded its stop and its heartbeat is younger than
ORCHESTRA_MASTER_GONE_AFTER (the database's clock); otherwise it is gone. Administrators see
the registry on the workers page and through `GET /api/masters`; masters read it at start to
refuse a layout that cannot work (a second master without Redis) and to decide whether their
configuration may take over (`projects.configuration_in_force`).
"""

import os
import socket
from datetime import timedelta

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import Now

from orchestra import VERSION
from orchestra.applications import describe
from orchestra.database import insert
from orchestra.models import Master

# Gone masters stay listed this long (so an administrator sees which one died and when), then
# housekeeping deletes them.
GONE_MASTERS_KEPT = timedelta(days=7)


def heartbeat_seconds() -> int:
    """How often a master refreshes its heartbeat: several times within the gone threshold."""
    return max(1, min(15, settings.MASTER_GONE_AFTER // 4))


def alive() -> Q:
    return Q(stopped__isnull=True, heartbeat__gte=Now() - timedelta(seconds=settings.MASTER_GONE_AFTER))


def listed() -> QuerySet:
    """Every master of the registry, newest first, each with `is_alive`."""
    return Master.objects.annotate(is_alive=ExpressionWrapper(alive(), output_field=BooleanField()))


def live_masters(besides: Master | None = None) -> QuerySet:
    masters = Master.objects.filter(alive())
    return masters.exclude(pk=besides.pk) if besides is not None else masters


def register(serves: frozenset[str], fingerprint: str = "") -> Master:
    """Record this process as a master that starts now, after marking gone the masters of
    this host whose process no longer exists (a master killed and restarted at once is not
    its own rival until its old heartbeat ages)."""
    host = socket.gethostname()
    for master in Master.objects.filter(host=host, stopped__isnull=True).exclude(pid=os.getpid()):
        if not process_exists(master.pid):
            Master.objects.filter(pk=master.pk, stopped__isnull=True).update(stopped=Now())
    [master] = insert([Master(
        host=host, pid=os.getpid(), serves=describe(serves), version=VERSION,
        fingerprint=fingerprint, started=Now(), heartbeat=Now(),
    )])
    master.refresh_from_db()
    return master


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def beat(master: Master) -> None:
    """The master is alive. A row a restarted neighbour marked stopped (two hosts of one name)
    comes back alive; a row deleted meanwhile is recorded again."""
    if not Master.objects.filter(pk=master.pk).update(heartbeat=Now(), stopped=None):
        master.pk = None
        master.started = master.heartbeat = Now()
        master.stopped = None
        insert([master])
        master.refresh_from_db()


def record_stop(master: Master) -> None:
    Master.objects.filter(pk=master.pk).update(stopped=Now())


def withdraw(master: Master) -> None:
    """Forget a master that refused to start: it never served."""
    Master.objects.filter(pk=master.pk).delete()


def delete_gone_masters() -> int:
    """Delete masters gone for longer than GONE_MASTERS_KEPT; returns how many."""
    limit = Now() - GONE_MASTERS_KEPT
    deleted, _ = Master.objects.filter(
        Q(stopped__lt=limit) | Q(stopped__isnull=True, heartbeat__lt=limit)
    ).delete()
    return deleted


def second_master_without_redis(master: Master) -> str:
    """Why `master` must not run beside the live masters of its database, or ""."""
    if settings.REDIS_URL:
        return ""
    others = list(live_masters(besides=master).order_by("started")[:3])
    if not others:
        return ""
    names = ", ".join(f"{other} (serving {other.serves})" for other in others)
    return (
        f"another master is alive on this database: {names}. Without ORCHESTRA_REDIS_URL each "
        "master has a channel layer of its own, in memory: a run triggered through one master "
        "would wake the workers connected to another only at that master's next dispatch "
        "sweep (ORCHESTRA_DISPATCH_SWEEP_SECONDS), and aborts would not reach them. Set "
        "ORCHESTRA_REDIS_URL to the same Redis on every master, or stop the other master (one "
        f"that died counts as gone {settings.MASTER_GONE_AFTER} s after its last heartbeat, "
        "ORCHESTRA_MASTER_GONE_AFTER)"
    )
