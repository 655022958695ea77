"""How busy the fleet is: each worker's executors busy and free now, its runs per hour over the
last day, and the whole fleet's executors for the overview.

A worker's busy executors are the runs it holds (claimed or running), counted in one grouped
query over the (worker, status) index for all the workers of a page; its last day is one grouped
query over the (worker, completed) index: at most 24 rows per worker come back, however many
runs they ran.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour

from runs.models import ACTIVE_STATUSES, Run, Status
from workers.models import Worker

HOURS = 24
BAR_STEP, BAR_WIDTH, STRIP_HEIGHT = 6, 4, 16


@dataclass(frozen=True)
class Executors:
    """A worker's executors now: a disconnected or disabled worker has none free."""

    busy: int
    total: int
    available: bool

    @property
    def free(self) -> int:
        return max(self.total - self.busy, 0) if self.available else 0

    @property
    def text(self) -> str:
        return f"{self.busy} busy, {self.free} free of {self.total}"


def busy_executors(worker_keys: list[int]) -> dict[int, int]:
    held = (Run.objects.filter(worker_id__in=worker_keys, status__in=ACTIVE_STATUSES)
            .order_by().values("worker_id").annotate(runs=Count("id")))
    busy = {key: 0 for key in worker_keys}
    busy.update((row["worker_id"], row["runs"]) for row in held)
    return busy


def executors(workers: list[Worker]) -> dict[int, Executors]:
    busy = busy_executors([worker.pk for worker in workers])
    return {
        worker.pk: Executors(busy=busy[worker.pk], total=worker.executors,
                             available=worker.is_connected and worker.is_enabled)
        for worker in workers
    }


@dataclass(frozen=True)
class Fleet:
    """The executors of the workers online, all together."""

    busy: int
    free: int
    workers: int

    @property
    def total(self) -> int:
        return self.busy + self.free


def fleet(workers_online: list[Worker]) -> Fleet:
    found = executors(workers_online).values()
    return Fleet(busy=sum(each.busy for each in found), free=sum(each.free for each in found),
                 workers=len(workers_online))


@dataclass(frozen=True)
class LastDay:
    """A worker's runs that ended in each of the last 24 hours (the current one last), split
    into those that succeeded and the others, and where their bars go."""

    succeeded: list[int]
    others: list[int]
    width: int = HOURS * BAR_STEP
    height: int = STRIP_HEIGHT
    bar_width: int = BAR_WIDTH

    @property
    def runs(self) -> int:
        return sum(self.succeeded) + sum(self.others)

    @property
    def unsuccessful(self) -> int:
        return sum(self.others)

    @property
    def busiest(self) -> int:
        return max(map(sum, zip(self.succeeded, self.others)))

    @property
    def text(self) -> str:
        if not self.runs:
            return "none"
        return (f"{self.runs} run{'s' if self.runs != 1 else ''}, {self.unsuccessful} without "
                f"success; at most {self.busiest} in an hour")

    # Each hour a bar, its height the hour's runs against the busiest hour: succeeded at the
    # bottom, the others stacked on top. Drawn as strokes of one path per kind, each move
    # relative to the last (a few bytes an hour, so a page of many workers stays light).
    def _heights(self, counts: list[int]) -> list[int]:
        return [round(count / self.busiest * STRIP_HEIGHT) if self.busiest else 0 for count in counts]

    @property
    def succeeded_path(self) -> str:
        return _strokes([(STRIP_HEIGHT, height) for height in self._heights(self.succeeded)])

    @property
    def others_path(self) -> str:
        return _strokes([(STRIP_HEIGHT - bottom, height) for bottom, height
                         in zip(self._heights(self.succeeded), self._heights(self.others))])


def _strokes(bars: list[tuple[int, int]]) -> str:
    """A path of vertical strokes, one per (bottom, height) bar that has a height, at its
    hour's x."""
    commands, point = [], None
    for hour, (bottom, height) in enumerate(bars):
        if not height:
            continue
        x = hour * BAR_STEP + BAR_WIDTH // 2
        if point is None:
            commands.append(f"M{x} {bottom}")
        else:
            commands.append(f"m{x - point[0]} {bottom - point[1]}")
        commands.append(f"v-{height}")
        point = (x, bottom - height)
    return "".join(commands)


def last_day(worker_keys: list[int], now: datetime) -> dict[int, LastDay]:
    current = now.replace(minute=0, second=0, microsecond=0)
    first = current - timedelta(hours=HOURS - 1)
    counts = {key: ([0] * HOURS, [0] * HOURS) for key in worker_keys}
    for row in last_day_counts(worker_keys, first):
        hour = int((row["hour"] - first).total_seconds() // 3600)
        if 0 <= hour < HOURS:
            counts[row["worker_id"]][0][hour] += row["succeeded"]
            counts[row["worker_id"]][1][hour] += row["runs"] - row["succeeded"]
    return {key: LastDay(succeeded=succeeded, others=others)
            for key, (succeeded, others) in counts.items()}


def last_day_counts(worker_keys: list[int], first: datetime) -> QuerySet:
    """Per worker and hour since `first`: its ended runs, and how many of them succeeded.

    Grouped by worker and hour alone: grouped by status too, SQLite chose the (worker, status)
    index for the grouping and read every run the workers ever ran (0.8 s with a million runs,
    bench/README.md) where the (worker, completed) index reads the last day's.
    """
    return (
        Run.objects.filter(worker_id__in=worker_keys, completed__gte=first)
        .order_by().annotate(hour=TruncHour("completed")).values("worker_id", "hour")
        .annotate(runs=Count("id"), succeeded=Count("id", filter=Q(status=Status.SUCCEEDED)))
    )


def load(workers: list[Worker], now: datetime) -> list[tuple[Worker, Executors, LastDay]]:
    """Each worker with its executors now and its last day: two queries."""
    busy = executors(workers)
    days = last_day([worker.pk for worker in workers], now)
    return [(worker, busy[worker.pk], days[worker.pk]) for worker in workers]
