"""A job's newest runs as the website's pictures read them: a few columns, from an index.

The history of one job is one query walking the (job, created) index backwards; the newest runs
of many jobs (a project's jobs, the jobs of a list's running runs) are one query too, a UNION
ALL of one such walk per job, so a page's query count depends neither on how many runs the jobs
have nor on how many jobs it shows. Only these columns are read, never a run's parameters,
results or messages.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import connections
from django.db.models import QuerySet

from orchestra.templatetags.website import duration
from runs.durations import median, percentile, seconds_between
from runs.models import ACTIVE_STATUSES, Run, Status

JOB_HISTORY_RUNS = 50  # the job page's chart
STRIP_RUNS = 20  # the project page's strip per job
# SQLite refuses a compound SELECT of more than 500 parts.
PARTS_PER_QUERY = 400

COLUMNS = ("identifier", "status", "started", "completed")


@dataclass(frozen=True)
class PastRun:
    identifier: str
    status: str
    duration: float | None  # seconds, once it ended after starting

    @property
    def url(self) -> str:
        # The run page's stable path, as the run tables write it: 50 reverse() calls cost more
        # than the chart's query (bench/README.md, "Website pages").
        return f"/runs/{self.identifier}/"

    @property
    def label(self) -> str:
        """What a screen reader says for the run's bar or mark."""
        took = f", {duration(timedelta(seconds=self.duration))}" if self.duration is not None else ""
        return f"run {self.identifier[:8]} {self.status}{took}"


def _past_run(identifier: str, status: str, started, completed) -> PastRun:
    return PastRun(identifier, status, seconds_between(started, completed))


def newest_rows(runs: QuerySet, job_keys: Iterable[int], count: int,
                columns: tuple[str, ...]) -> dict[int, list[tuple]]:
    """For each job, `columns` of its newest `count` runs among `runs`, newest first.

    One query per PARTS_PER_QUERY jobs: a UNION ALL of one sliced walk of an index per job.
    SQLite allows no LIMIT in a part of a compound SELECT, so there each part takes its keys
    from a sliced subquery instead.
    """
    keys = list(dict.fromkeys(job_keys))
    found: dict[int, list[tuple]] = {key: [] for key in keys}
    selected = ("job_id", "created", "id", *columns)
    slicing = connections[runs.db].features.supports_slicing_ordering_in_compound
    for start in range(0, len(keys), PARTS_PER_QUERY):
        chunk = keys[start:start + PARTS_PER_QUERY]
        parts = []
        for key in chunk:
            newest = runs.filter(job_id=key).order_by("-created", "-id")
            if slicing or len(chunk) == 1:
                parts.append(newest.values_list(*selected)[:count])
            else:
                keys_query = newest.values("pk")[:count]
                parts.append(runs.model.objects.filter(pk__in=keys_query).order_by()
                             .values_list(*selected))
        query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        for job, created, key, *values in query:
            found[job].append((created, key, tuple(values)))
    return {
        job: [values for _, _, values in sorted(rows, key=lambda row: row[:2], reverse=True)]
        for job, rows in found.items()
    }


def job_history(job_key: int, count: int = JOB_HISTORY_RUNS) -> list[PastRun]:
    """The job's newest `count` runs, oldest first (as a chart reads left to right)."""
    rows = newest_rows(Run.objects.all(), [job_key], count, COLUMNS)[job_key]
    return [_past_run(*row) for row in reversed(rows)]


def histories(job_keys: Iterable[int], count: int = STRIP_RUNS) -> dict[int, list[PastRun]]:
    """job_history for many jobs, in one query."""
    rows = newest_rows(Run.objects.all(), job_keys, count, COLUMNS)
    return {job: [_past_run(*row) for row in reversed(found)] for job, found in rows.items()}


@dataclass(frozen=True)
class HistorySummary:
    """Success rate over the runs that ended, and the durations of those that succeeded (a
    run that fails early says nothing about how long the job takes)."""

    shown: int
    ended: int
    counts: dict[str, int]
    median: float | None
    p95: float | None

    @property
    def succeeded(self) -> int:
        return self.counts.get(Status.SUCCEEDED, 0)

    @property
    def success_rate(self) -> int | None:
        """Percent, rounded down so that one failure in 200 never reads 100 %."""
        return self.succeeded * 100 // self.ended if self.ended else None

    @property
    def outcomes(self) -> str:
        """`16 succeeded, 3 failed, 1 exception`: every status in words, not only in colour."""
        return ", ".join(f"{number} {status}" for status, number in self.counts.items())

    @property
    def durations(self) -> str:
        if self.median is None:
            return "no succeeded run to time"
        return (f"median {duration(timedelta(seconds=self.median))}, "
                f"95th percentile {duration(timedelta(seconds=self.p95))}")


def summarize(runs: list[PastRun]) -> HistorySummary:
    ended = [run for run in runs if run.status not in ACTIVE_STATUSES]
    timed = [run.duration for run in ended
             if run.status == Status.SUCCEEDED and run.duration is not None]
    counts = Counter(run.status for run in runs)
    order = list(Status)
    return HistorySummary(
        shown=len(runs),
        ended=len(ended),
        counts=dict(sorted(counts.items(), key=lambda item: order.index(item[0]))),
        median=median(timed),
        p95=percentile(timed, 0.95),
    )
