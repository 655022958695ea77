"""How far along a running run or step is, against how long the same work usually takes.

The usual time of a job is the median duration of its last ESTIMATE_RUNS succeeded runs (the
newest by creation, read from the (job, status, created) index); the usual time of a step, the
median of the same step (same index and name) in those runs. Computed when a page is drawn, in
one query for all the jobs of a list's running runs: nothing is written when a run ends, and a
deleted run stops counting at once (docs/architecture.md, "Pictures on the website").
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from runs.durations import approximate, median, seconds_between
from runs.history import newest_rows
from runs.models import Run, RunStep, Status

ESTIMATE_RUNS = 10


@dataclass(frozen=True)
class Progress:
    """`elapsed` seconds of work that usually takes `expected` (None: no succeeded run yet)."""

    elapsed: float
    expected: float | None

    @property
    def is_over(self) -> bool:
        return self.expected is not None and self.elapsed > self.expected

    @property
    def text(self) -> str:
        elapsed = f"{approximate(self.elapsed)} elapsed"
        if self.expected is None:
            return elapsed
        if self.is_over:
            return f"{elapsed}, over the usual time by {approximate(self.elapsed - self.expected)}"
        return f"{elapsed}, about {approximate(max(self.expected - self.elapsed, 1))} left"

    # The <progress> element's attributes, and what static/progress.js starts from.
    @property
    def value(self) -> str:
        return f"{min(self.elapsed, self.expected or 0):.1f}"

    @property
    def maximum(self) -> str:
        # A <progress> needs a maximum above 0: work that took no time shows as done.
        return f"{max(self.expected or 0, 0.1):.1f}"

    @property
    def elapsed_attribute(self) -> str:
        return f"{self.elapsed:.1f}"

    @property
    def expected_attribute(self) -> str:
        return "" if self.expected is None else f"{self.expected:.1f}"


def progress_of(started: datetime | None, expected: float | None, now: datetime) -> Progress | None:
    if started is None:
        return None
    return Progress(elapsed=seconds_between(started, now), expected=expected)


def _succeeded_runs():
    return Run.objects.filter(status=Status.SUCCEEDED)


def run_estimates(job_keys: Iterable[int]) -> dict[int, float | None]:
    """The usual duration of each job's runs, in one query."""
    rows = newest_rows(_succeeded_runs(), job_keys, ESTIMATE_RUNS, ("started", "completed"))
    return {job: median([seconds_between(*times) for times in found if None not in times])
            for job, found in rows.items()}


@dataclass(frozen=True)
class Estimates:
    run: float | None
    steps: dict[tuple[int, str], float]

    def step(self, index: int, name: str) -> float | None:
        return self.steps.get((index, name))


def job_estimates(job_key: int) -> Estimates:
    """The usual duration of a job's runs and of each of its steps: two queries."""
    runs = list(_succeeded_runs().filter(job_id=job_key).order_by("-created", "-id")
                .values_list("pk", "started", "completed")[:ESTIMATE_RUNS])
    durations: dict[tuple[int, str], list[float]] = {}
    steps = RunStep.objects.filter(run_id__in=[key for key, _, _ in runs], status=Status.SUCCEEDED)
    for index, name, started, completed in steps.values_list("index", "name", "started", "completed"):
        if started is not None and completed is not None:
            durations.setdefault((index, name), []).append(seconds_between(started, completed))
    return Estimates(
        run=median([seconds_between(started, completed) for _, started, completed in runs
                    if started is not None and completed is not None]),
        steps={step: median(values) for step, values in durations.items()},
    )
