"""The tail of each step's log, as the run and log pages show it."""

from dataclasses import dataclass

from django.urls import reverse

from orchestra.extensions import log_store


@dataclass
class StepLog:
    step: object
    size: int  # bytes of the whole log so far
    offset: int  # where the shown text starts
    text: str

    @property
    def shown(self) -> int:
        return self.size - self.offset

    @property
    def truncated(self) -> bool:
        return self.offset > 0

    @property
    def raw_url(self) -> str:
        return reverse("run-step-raw", args=[self.step.run.identifier, self.step.index])

    @property
    def live_url(self) -> str:
        """The service route log.js reads new bytes from (it accepts the session cookie)."""
        return f"/api/runs/{self.step.run.identifier}/steps/{self.step.index}/log"


def tail(data: bytes, started_at: int) -> tuple[int, str]:
    """Start the shown text at a line boundary when the tail cuts into a line."""
    if started_at > 0:
        newline = data.find(b"\n")
        if 0 <= newline < len(data) - 1:
            started_at += newline + 1
            data = data[newline + 1:]
    return started_at, data.decode("utf-8", errors="replace")


def step_logs(run, steps: list, budget: int) -> list[StepLog]:
    """Each step's log, the last `budget` bytes of all of them shared evenly between steps."""
    store = log_store()
    per_step = budget // max(len(steps), 1)
    logs = []
    for step in steps:
        step.run = run  # avoids one query per step in `raw_url`
        size = store.size(run.identifier, step.index)
        start = max(size - per_step, 0)
        offset, text = tail(store.read(run.identifier, step.index, start, size - start), start)
        logs.append(StepLog(step=step, size=size, offset=offset, text=text))
    return logs
