"""The master's periodic work, run as tasks on daphne's asyncio loop.

- Dispatch sweep: assigns waiting runs that no wake-up reached, and has runs claimed but not
  offered (a lost channel-layer message) offered again (`workers.dispatch`).
- Worker liveness: every consumer refreshes its worker's `last_seen` (MasterConsumer.keep_alive);
  a worker marked connected whose `last_seen` is older than WORKER_INACTIVE_AFTER lost its
  master (killed process) and is marked disconnected. Both times are the database's clock, so
  masters with different clocks agree. Its runs keep their status until it has been away
  ORCHESTRA_WORKER_LOST_AFTER, if set: then they end `exception` (see docs/architecture.md).
- Cron scheduler tick (`projects.scheduler.tick`), safe with several masters, and the repair of
  pipelines whose child-end notification was lost (`runs.pipelines.resume_pipelines`).
- Notifications: due deliveries of the outbox are claimed, sent and recorded
  (`runs.notification_delivery`); the sending runs in threads of its own, never in the thread
  that serves the consumers' database work, which a slow receiver would hold up.
- Housekeeping: expired and revoked tokens are deleted (`orchestra.tokens.delete_dead_tokens`),
  runs older than their retention in days (`runs.retention.delete_expired_runs`), triggers'
  idempotency keys older than 24 hours (`runs.idempotency.delete_expired_idempotency_keys`),
  masters gone for a week (`orchestra.masters.delete_gone_masters`), and hooks' deliveries
  older than 7 days (`projects.deliveries.delete_expired_deliveries`).
- The registry's heartbeat (`orchestra.masters.beat`), in every runmaster process, whatever it
  serves (`start_heartbeat`).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.db.models.functions import Now

from orchestra import masters
from orchestra.models import Master
from orchestra.tokens import delete_dead_tokens
from projects import scheduler
from projects.deliveries import delete_expired_deliveries
from runs import notification_delivery, pipelines
from runs.actions import finish_run
from runs.idempotency import delete_expired_idempotency_keys
from runs.models import ACTIVE_STATUSES, Run, Status
from runs.retention import delete_expired_runs
from workers.dispatch import OFFER, assign_waiting_runs, tell
from workers.models import Worker

logger = logging.getLogger("orchestra.master")

HOUSEKEEPING_SECONDS = 3600
NOTIFICATION_SWEEP_SECONDS = 1


async def dispatch_sweep() -> None:
    await database_sync_to_async(assign_waiting_runs)()
    await database_sync_to_async(offer_unconfirmed_runs)()


def offer_unconfirmed_runs() -> int:
    """Tell the consumers of workers holding claimed, unconfirmed runs to offer them (again:
    an offer already made on a connection is not repeated there); returns how many."""
    channels = set(
        Run.objects.filter(status=Status.PENDING, worker__isnull=False)
        .exclude(worker__channel_name="")
        .values_list("worker__channel_name", flat=True)
    )
    for channel_name in channels:
        tell(channel_name, OFFER)
    return len(channels)


async def worker_liveness_sweep() -> None:
    await database_sync_to_async(mark_silent_workers_disconnected)()
    await database_sync_to_async(end_runs_of_lost_workers)()


def mark_silent_workers_disconnected() -> int:
    limit = Now() - timedelta(seconds=settings.WORKER_INACTIVE_AFTER)
    return Worker.objects.filter(is_connected=True, last_seen__lt=limit).update(
        is_connected=False, channel_name=""
    )


def end_runs_of_lost_workers() -> int:
    """Active runs of workers disconnected longer than ORCHESTRA_WORKER_LOST_AFTER end
    `exception` (and are retried if their job says so); returns how many. A lost worker that
    comes back is told to drop them (`workers.sync.reconcile`)."""
    lost_after = settings.WORKER_LOST_AFTER
    if lost_after is None:
        return 0
    lost = Worker.objects.filter(
        is_connected=False, last_seen__lt=Now() - timedelta(seconds=lost_after)
    )
    runs = Run.objects.filter(worker__in=lost, status__in=ACTIVE_STATUSES).select_related(
        "worker", "job"
    )
    return sum(
        finish_run(
            run, Status.EXCEPTION,
            f"worker {run.worker.identifier} lost: disconnected for more than {lost_after} s",
            worker=run.worker,
        )
        for run in runs
    )


async def scheduler_tick() -> None:
    await database_sync_to_async(scheduler.tick)()
    await database_sync_to_async(pipelines.resume_pipelines)()


async def notification_sweep() -> None:
    claimed = await database_sync_to_async(notification_delivery.claim_due_deliveries)()
    await asyncio.gather(*(deliver(delivery) for delivery in claimed))


async def deliver(delivery: notification_delivery.Claimed) -> None:
    outcome = await asyncio.to_thread(notification_delivery.send, delivery)
    await database_sync_to_async(notification_delivery.record_attempt)(delivery, outcome)


async def housekeeping() -> None:
    await database_sync_to_async(delete_dead_tokens)()
    await database_sync_to_async(delete_expired_runs)()
    await database_sync_to_async(delete_expired_idempotency_keys)()
    await database_sync_to_async(masters.delete_gone_masters)()
    await database_sync_to_async(delete_expired_deliveries)()


async def every(seconds: float, work: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except Exception:
            logger.exception("periodic task %s failed", work.__name__)


def start(loop: asyncio.AbstractEventLoop) -> list[asyncio.Task]:
    liveness_seconds = max(1, min(
        30, settings.WORKER_INACTIVE_AFTER // 3, (settings.WORKER_LOST_AFTER or 90) // 3
    ))
    return [
        loop.create_task(every(settings.DISPATCH_SWEEP_SECONDS, dispatch_sweep)),
        loop.create_task(every(liveness_seconds, worker_liveness_sweep)),
        loop.create_task(every(settings.SCHEDULER_SECONDS, scheduler_tick)),
        loop.create_task(every(NOTIFICATION_SWEEP_SECONDS, notification_sweep)),
        loop.create_task(every(HOUSEKEEPING_SECONDS, housekeeping)),
    ]


def start_heartbeat(loop: asyncio.AbstractEventLoop, master: Master) -> asyncio.Task:
    async def heartbeat() -> None:
        await database_sync_to_async(masters.beat)(master)

    return loop.create_task(every(masters.heartbeat_seconds(), heartbeat))
