"""The master's periodic work, run as tasks on daphne's asyncio loop.

- Dispatch sweep: wakes every consumer now and then, repairing wake-ups the channel layer
  dropped (the trigger path itself never waits for it).
- Worker liveness: every consumer refreshes its worker's `last_seen` (MasterConsumer.keep_alive);
  a worker marked connected whose `last_seen` is older than WORKER_INACTIVE_AFTER lost its
  master (killed process) and is marked disconnected. Its runs keep their status (see docs/architecture.md).
- Cron scheduler tick (`projects.scheduler.tick`), safe with several masters, and the repair of
  pipelines whose child-end notification was lost (`runs.pipelines.resume_pipelines`).
- Housekeeping: expired and revoked tokens are deleted (`orchestra.tokens.delete_dead_tokens`).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from orchestra.tokens import delete_dead_tokens
from workers.dispatch import WORKERS_GROUP
from workers.models import Worker

logger = logging.getLogger("orchestra.master")

HOUSEKEEPING_SECONDS = 3600


async def dispatch_sweep() -> None:
    await get_channel_layer().group_send(WORKERS_GROUP, {"type": "dispatch.wake"})


async def worker_liveness_sweep() -> None:
    await database_sync_to_async(mark_silent_workers_disconnected)()


def mark_silent_workers_disconnected() -> int:
    limit = timezone.now() - timedelta(seconds=settings.WORKER_INACTIVE_AFTER)
    return Worker.objects.filter(is_connected=True, last_seen__lt=limit).update(
        is_connected=False, channel_name=""
    )


async def scheduler_tick() -> None:
    from projects import scheduler
    from runs import pipelines

    await database_sync_to_async(scheduler.tick)()
    await database_sync_to_async(pipelines.resume_pipelines)()


async def housekeeping() -> None:
    await database_sync_to_async(delete_dead_tokens)()


async def every(seconds: float, work: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except Exception:
            logger.exception("periodic task %s failed", work.__name__)


def start(loop: asyncio.AbstractEventLoop) -> list[asyncio.Task]:
    liveness_seconds = max(1, min(30, settings.WORKER_INACTIVE_AFTER // 3))
    return [
        loop.create_task(every(settings.DISPATCH_SWEEP_SECONDS, dispatch_sweep)),
        loop.create_task(every(liveness_seconds, worker_liveness_sweep)),
        loop.create_task(every(settings.SCHEDULER_SECONDS, scheduler_tick)),
        loop.create_task(every(HOUSEKEEPING_SECONDS, housekeeping)),
    ]
