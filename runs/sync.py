"""The master's side of synchronising runs with the worker that holds them.

Each function applies one kind of worker message to the database and the log store and
returns what the master acknowledges. Everything is committed (and log bytes fsync'd) before
the function returns, so an acknowledgement is never ahead of what a restarted master has.
"""

from datetime import datetime, timezone as dt_timezone

from django.db import transaction
from django.utils import timezone

from orchestra.extensions import log_store
from runs.actions import finish_run
from runs.models import FINAL_STATUSES, Run, RunStep, Status
from workers.models import Worker


class SyncError(Exception):
    """A worker message the master refuses; the text goes back in the error response."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = details


class LogsIncomplete(SyncError):
    pass


def run_of(worker: Worker, run_identifier: object) -> Run:
    """The run `worker` holds, or SyncError: a worker may only touch its own runs."""
    if not isinstance(run_identifier, str):
        raise SyncError("field 'run' must be a run identifier")
    run = Run.objects.filter(identifier=run_identifier).select_related("job", "project").first()
    if run is None:
        raise SyncError(f"unknown run {run_identifier}")
    if run.worker_id != worker.pk:
        raise SyncError(f"run {run_identifier} is not assigned to worker {worker.identifier}")
    return run


def step_log_sizes(run: Run) -> dict[str, int]:
    """The durable size of every step's log, keyed by the step index as text (JSON keys)."""
    store = log_store()
    return {
        str(index): store.size(run.identifier, index)
        for index in run.steps.values_list("index", flat=True)
    }


def run_request(run: Run) -> dict:
    """What a worker needs to execute `run` (sent in `run.start`)."""
    return {
        "identifier": run.identifier,
        "project": run.project.identifier,
        "job": run.job.identifier,
        "parameters": run.parameters,
        "steps": [{"name": step["name"], "command": step["command"]} for step in run.job.steps],
    }


def reconcile(worker: Worker, reported: list[str]) -> dict:
    """Answer a worker's report of the runs it holds at (re)connection.

    Per reported run: `{"logs": {step: size}, "abort": bool}` to resume, or `{"drop": reason}`
    when the master does not expect it there (the worker deletes it). Runs the master believes
    running on this worker but absent from the report end `exception`; runs claimed for it but
    never confirmed go back to the queue.
    """
    answer = {}
    runs = {run.identifier: run for run in Run.objects.filter(identifier__in=reported)}
    with transaction.atomic():
        for identifier in reported:
            run = runs.get(identifier)
            if run is None:
                answer[identifier] = {"drop": "the master has no such run"}
            elif run.worker_id != worker.pk:
                answer[identifier] = {"drop": "the run is assigned to another worker"}
            elif run.status in FINAL_STATUSES:
                answer[identifier] = {"drop": f"the run already ended {run.status}"}
            else:
                mark_started(worker, run)
                answer[identifier] = {"logs": step_log_sizes(run), "abort": run.abort_requested}
        lost = Run.objects.filter(worker=worker, status=Status.RUNNING).exclude(
            identifier__in=reported
        )
        for run in lost:
            finish_run(
                run,
                Status.EXCEPTION,
                f"worker {worker.identifier} reconnected without this run: its run directory "
                "was lost (disk wiped, different data directory or another machine)",
            )
        unconfirmed = Run.objects.filter(worker=worker, status=Status.PENDING).exclude(
            identifier__in=reported
        )
        unconfirmed.update(worker=None, last_update=timezone.now())
    return answer


def mark_started(worker: Worker, run: Run) -> None:
    """The worker confirmed it holds `run`: pending becomes running."""
    now = timezone.now()
    started = Run.objects.filter(pk=run.pk, worker=worker, status=Status.PENDING).update(
        status=Status.RUNNING, started=now, last_update=now
    )
    if started:
        run.status, run.started = Status.RUNNING, now


def release_run(worker: Worker, run_identifier: str) -> None:
    """The worker refused a run it was offered: it goes back to the queue."""
    Run.objects.filter(
        identifier=run_identifier, worker=worker, status=Status.PENDING
    ).update(worker=None, last_update=timezone.now())


def store_log(worker: Worker, run_identifier: object, step_index: object, offset: object,
              data: bytes) -> int:
    """Append a chunk found at `offset` of a step's log; return the durable size.

    A chunk that repeats bytes already stored adds only its new bytes; a chunk beyond the end
    writes nothing, and the returned size tells the worker where to resume.
    """
    run = run_of(worker, run_identifier)
    if not isinstance(step_index, int) or not isinstance(offset, int) or offset < 0:
        raise SyncError("fields 'step' and 'offset' must be whole numbers")
    if not run.steps.filter(index=step_index).exists():
        raise SyncError(f"run {run.identifier} has no step {step_index}")
    size = log_store().append(run.identifier, step_index, offset, data)
    RunStep.objects.filter(run=run, index=step_index).exclude(log_size=size).update(log_size=size)
    return size


def apply_state(worker: Worker, run_identifier: object, state: object) -> dict:
    """Store a run's status, steps and results as the executor wrote them.

    A final status is accepted only once every log byte it counts is stored, so a run the
    master shows as finished always has its complete log. Returns {"final": bool}.
    """
    run = run_of(worker, run_identifier)
    status, message, steps, results = parse_state(state)
    if run.status in FINAL_STATUSES:
        return {"final": True}
    final = status in FINAL_STATUSES
    if final:
        stored = step_log_sizes(run)
        missing = {
            str(step["index"]): stored.get(str(step["index"]), 0)
            for step in steps
            if stored.get(str(step["index"]), 0) < step["log_size"]
        }
        if missing:
            raise LogsIncomplete("the logs are not complete on the master", logs=missing)
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.status in FINAL_STATUSES:
            return {"final": True}
        for step in steps:
            RunStep.objects.filter(run=run, index=step["index"]).update(
                status=step["status"], started=step["started"], completed=step["completed"]
            )
        mark_started(worker, run)
        Run.objects.filter(pk=run.pk).update(results=results, last_update=timezone.now())
        run.results = results
        if final:
            finish_run(run, status, message)
    return {"final": final}


def parse_state(state: object) -> tuple[str, str, list[dict], dict]:
    if not isinstance(state, dict):
        raise SyncError("field 'state' must be an object")
    status = state.get("status")
    if status not in Status.values or status in (Status.PENDING, Status.SKIPPED):
        raise SyncError(f"invalid run status {status!r}")
    message = state.get("message") or ""
    results = state.get("results") or {}
    if not isinstance(message, str) or not isinstance(results, dict):
        raise SyncError("'message' must be text and 'results' an object")
    steps = []
    for step in state.get("steps") or []:
        try:
            steps.append({
                "index": int(step["index"]),
                "status": Status(step["status"]).value,
                "started": timestamp(step.get("started")),
                "completed": timestamp(step.get("completed")),
                "log_size": int(step.get("log_size") or 0),
            })
        except (KeyError, TypeError, ValueError) as error:
            raise SyncError(f"invalid step in state: {error}")
    return status, message, steps, results


def timestamp(value: object) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(float(value), tz=dt_timezone.utc)

