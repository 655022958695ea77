"""Reading a step's log: by offset and limit for the website's raw log and the service, and
the tail of each step's log as the run and log pages show it."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse

from orchestra.extensions import log_store
from runs.models import Run, RunStep
from runs.streaming import BlockingStreamingResponse

# A log sent whole is read this many bytes at a time: enough that a read's fixed cost (open,
# lock, seek) vanishes, little enough that a log of any size never sits in memory.
CHUNK_BYTES = 1024 * 1024


class LogRangeError(ValueError):
    """An offset or limit that is not a non-negative integer; `field` names it."""

    message = "must be a non-negative integer"

    def __init__(self, field: str):
        super().__init__(f"{field}: {self.message}")
        self.field = field


def _non_negative(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name, "")
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise LogRangeError(name) from None
    if value < 0:
        raise LogRangeError(name)
    return value


def log_range(query: Mapping[str, str]) -> tuple[int, int | None]:
    """`offset` (default 0) and `limit` (default: the rest of the log) of a log read, from a
    query string; raises LogRangeError. Every route that reads a log by offset uses this."""
    offset = _non_negative(query, "offset")
    return 0 if offset is None else offset, _non_negative(query, "limit")


def log_chunks(run_identifier: str, step_index: int, start: int, end: int) -> Iterator[bytes]:
    """Bytes `start` to `end` of a step's log, a chunk at a time."""
    store = log_store()
    while start < end:
        data = store.read(run_identifier, step_index, start, min(CHUNK_BYTES, end - start))
        if not data:
            return  # the log was deleted meanwhile
        start += len(data)
        yield data


def step_log_response(identifier: str, step_index: int, offset: int,
                      limit: int | None) -> BlockingStreamingResponse:
    """A step's log from `offset`, at most `limit` bytes, streamed; Http404 for an unknown
    run or step.

    `X-Log-Size` is the log's size now, so a reader asks next from `offset + bytes read` and
    stops once `X-Run-Status` is final and it has read up to the size. The answer stops at
    that size, not at the end of the file, so a growing log never answers more than it says.
    """
    run = get_object_or_404(Run.objects.only("identifier", "status"), identifier=identifier)
    if not RunStep.objects.filter(run=run, index=step_index).exists():
        raise Http404("no such step")
    size = log_store().size(run.identifier, step_index)
    end = size if limit is None else min(size, offset + limit)
    response = BlockingStreamingResponse(
        log_chunks(run.identifier, step_index, offset, end), content_type="text/plain; charset=utf-8"
    )
    response["Content-Length"] = str(max(end - offset, 0))
    response["X-Log-Size"] = str(size)
    response["X-Run-Status"] = run.status
    return response


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
        """The whole log, and the route log.js reads new bytes from by offset: the website's
        own, so that a process serving the website without the service shows live logs."""
        return reverse("run-step-raw", args=[self.step.run.identifier, self.step.index])


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
