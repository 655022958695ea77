"""The master's side of synchronising runs with the worker that holds them.

Each function applies one kind of worker message and returns what the master acknowledges;
the run's state changes themselves are `runs.actions`'. Everything is committed (and log bytes
fsync'd) before the function returns, so an acknowledgement is never ahead of what a restarted
master has.
"""

from django.db.models import QuerySet

from orchestra.database import atomic, is_mongodb, retried_on_conflict
from orchestra.extensions import log_store
from orchestra.prepared import prepared
from orchestra.values import InvalidValue, check_count, check_json, check_text, check_timestamp
from runs.actions import finish_run, record_log_size, record_progress, release_run, start_run
from runs.models import ACTIVE_STATUSES, FINAL_STATUSES, Run, RunStep, Status
from workers.metrics import LOG_BYTES_RECEIVED
from workers.models import Worker

# Results a run may hold, encoded as JSON: they are stored in a database row and shown on the
# run page, so they are bounded like the rest of a row.
MAX_RESULTS_BYTES = 1024 * 1024
MAX_MESSAGE_LENGTH = 10_000
# The bounds a job and each of its steps may declare, enforced by the executor.
TIMEOUTS = ("timeout", "silence_timeout")
# Run.identifier's length.
MAX_RUN_IDENTIFIER_LENGTH = 32
# A value the worker sent, quoted in an error or a log line, is cut to this many characters.
MAX_QUOTE_LENGTH = 100


class SyncError(Exception):
    """A worker message the master refuses; the text goes back in the error response."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = details


class LogsIncomplete(SyncError):
    pass


class InvalidState(SyncError):
    """A state holding a value the master cannot store: the run ends `exception`, naming it."""


def shorten(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters if longer (it may quote a megabyte the worker sent)."""
    return text if len(text) <= limit else f"{text[:limit - 15]}... (cut short)"


def quote(value: object) -> str:
    """A value the worker sent, for an error or a log line: short, on one line, and never
    walking a structure (which may nest as deep as the JSON parser allows)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return shorten(repr(value), MAX_QUOTE_LENGTH)
    return f"a JSON {'object' if isinstance(value, dict) else 'list'}"


def check_run_identifier(value: object, field: str) -> str:
    try:
        return check_text(value, field, max_length=MAX_RUN_IDENTIFIER_LENGTH)
    except InvalidValue:
        raise SyncError(
            f"field {field!r} must be a run identifier (a text of at most "
            f"{MAX_RUN_IDENTIFIER_LENGTH} characters)"
        )


@prepared
def run_by_identifier(identifier: str) -> QuerySet:
    return Run.objects.filter(identifier=identifier).select_related("job", "project").order_by()[:1]


def run_of(worker: Worker, run_identifier: object) -> Run:
    """The run `worker` holds, or SyncError: a worker may only touch its own runs."""
    check_run_identifier(run_identifier, "run")
    run = run_by_identifier.first(run_identifier)
    if run is None:
        raise SyncError(f"unknown run {run_identifier!r}")
    if run.worker_id != worker.pk:
        raise SyncError(f"run {run_identifier!r} is not assigned to worker {worker.identifier}")
    return run


def step_log_sizes(run: Run) -> dict[str, int]:
    """The durable size of every step's log, keyed by the step index as text (JSON keys)."""
    store = log_store()
    return {str(index): store.size(run.identifier, index) for index in step_indexes.rows(run.pk)}


@prepared
def step_indexes(run_key: int) -> QuerySet:
    return RunStep.objects.filter(run_id=run_key).order_by().values_list("index", flat=True)


# What run_request reads of a run and its job and project: a run read to be offered loads only
# these (a whole run, job and project is five times as many columns, a JSON parse each).
RUN_REQUEST_FIELDS = (
    "identifier", "parameters", "project__identifier", "job__identifier", "job__steps",
    "job__secrets", *(f"job__{name}" for name in TIMEOUTS),
)


def run_request(run: Run) -> dict:
    """What a worker needs to execute `run` (sent in `run.start`).

    Timeouts travel only when set, so a run without bounds costs no more bytes than before.
    """
    job = run.job
    return {
        "identifier": run.identifier,
        "project": run.project.identifier,
        "job": job.identifier,
        "parameters": run.parameters,
        **{name: getattr(job, name) for name in TIMEOUTS if getattr(job, name) is not None},
        # Which secret each variable gets; the consumer puts in the values as it sends the
        # request (projects.secrets.reveal), so that they are in no other copy of it.
        **({"secrets": dict(job.secrets)} if job.secrets else {}),
        "steps": [
            {"name": step["name"], "command": step["command"],
             **{name: step[name] for name in TIMEOUTS if step.get(name) is not None}}
            for step in job.steps
        ],
    }


@retried_on_conflict
def reconcile(worker: Worker, reported: list[str]) -> dict:
    """Answer a worker's report of the runs it holds at (re)connection.

    Per reported run: `{"logs": {step: size}, "abort": bool}` to resume, or `{"drop": reason}`
    when the master does not expect it there (the worker deletes it). Runs the master believes
    running on this worker but absent from the report end `exception`; runs claimed for it but
    never confirmed go back to the queue (cancelled, if an abort was asked for meanwhile).
    """
    answer = {}
    runs = {run.identifier: run for run in Run.objects.filter(identifier__in=reported)}
    with atomic():
        for identifier in reported:
            run = runs.get(identifier)
            if run is None:
                answer[identifier] = {"drop": "the master has no such run"}
            elif run.worker_id != worker.pk:
                answer[identifier] = {"drop": "the run is assigned to another worker"}
            elif run.status in FINAL_STATUSES:
                answer[identifier] = {"drop": f"the run already ended {run.status}"}
            else:
                start_run(run, worker)
                answer[identifier] = {"logs": step_log_sizes(run), "abort": run.abort_requested}
        absent = Run.objects.filter(worker=worker, status__in=ACTIVE_STATUSES).exclude(
            identifier__in=reported
        )
        for run in absent:
            if run.status == Status.PENDING:
                release_run(run, worker)
            else:
                finish_run(
                    run, Status.EXCEPTION,
                    f"worker {worker.identifier} reconnected without this run: its run directory "
                    "was lost (disk wiped, different data directory or another machine)",
                    worker=worker,
                )
    return answer


def store_log(worker: Worker, run_identifier: object, step_index: object, offset: object,
              data: bytes) -> int:
    """Append a chunk found at `offset` of a step's log; return the durable size.

    A chunk that repeats bytes already stored adds only its new bytes; a chunk beyond the end
    writes nothing, and the returned size tells the worker where to resume.
    """
    run = run_of(worker, run_identifier)
    try:
        check_count(step_index, "step")
        check_count(offset, "offset")
    except InvalidValue as error:
        raise SyncError(str(error))
    if not run.steps.filter(index=step_index).exists():
        raise SyncError(f"run {run.identifier} has no step {step_index}")
    LOG_BYTES_RECEIVED.inc(len(data))
    size = log_store().append(run.identifier, step_index, offset, data)
    record_log_size(run, step_index, size)
    return size


@retried_on_conflict
def apply_state(worker: Worker, run_identifier: object, state: object) -> dict:
    """Store a run's status, steps and results as the executor wrote them.

    A final status is accepted only once every log byte it counts is stored, so a run the
    master shows as finished always has its complete log. A state holding a value the master
    cannot store ends the run `exception` (InvalidState). Returns {"final": bool}.
    """
    run = run_of(worker, run_identifier)
    try:
        status, message, steps, results = parse_state(state)
    except InvalidValue as error:
        # Guarded: a run that already ended keeps its status.
        finish_run(run, Status.EXCEPTION,
                   shorten(f"the worker reported an invalid state: {error}", MAX_MESSAGE_LENGTH),
                   worker=worker)
        raise InvalidState(f"invalid state: {error}", final=True)
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
    with atomic():
        if not record_progress(run, worker, steps, results):
            return {"final": True}  # ended meanwhile (aborted before it started, given up on)
        if final:
            # A report that ends every step of the run leaves none for the end to settle.
            settled = set(stored) <= {
                str(step["index"]) for step in steps if step["status"] in FINAL_STATUSES
            }
            finish_run(run, status, message, worker=worker, steps_settled=settled)
    return {"final": final}


def parse_state(state: object) -> tuple[str, str, list[dict], dict]:
    """The state a worker reports, checked value by value (InvalidValue names the field).

    A field that is absent or null takes its empty value; any other value of a wrong type, a
    falsy one too (`"steps": 0`), is refused.
    """
    if not isinstance(state, dict):
        raise InvalidValue("state", "must be an object")
    status = state.get("status")
    if status not in Status.values or status in (Status.PENDING, Status.SKIPPED):
        raise InvalidValue("state.status", f"invalid run status {quote(status)}")
    message = check_text(given(state, "message", ""), "state.message",
                         max_length=MAX_MESSAGE_LENGTH)
    results = given(state, "results", {})
    if not isinstance(results, dict):
        raise InvalidValue("state.results", "must be an object")
    check_json(results, "state.results", max_bytes=MAX_RESULTS_BYTES,
               integers_of_64_bits=is_mongodb())
    reported_steps = given(state, "steps", [])
    if not isinstance(reported_steps, list):
        raise InvalidValue("state.steps", "must be a list")
    steps = []
    for position, step in enumerate(reported_steps):
        field = f"state.steps[{position}]"
        if not isinstance(step, dict):
            raise InvalidValue(field, "must be an object")
        step_status = step.get("status")
        if step_status not in Status.values:
            raise InvalidValue(f"{field}.status", f"invalid step status {quote(step_status)}")
        steps.append({
            "index": check_count(step.get("index"), f"{field}.index"),
            "status": step_status,
            "started": check_timestamp(step.get("started"), f"{field}.started"),
            "completed": check_timestamp(step.get("completed"), f"{field}.completed"),
            "log_size": check_count(given(step, "log_size", 0), f"{field}.log_size"),
        })
    return status, message, steps, results


def given(values: dict, key: str, empty: object) -> object:
    """`values[key]`, or `empty` if it is absent or null."""
    value = values.get(key)
    return empty if value is None else value
