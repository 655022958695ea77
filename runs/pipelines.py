"""Pipeline runs: elements started as child runs when their dependency rules hold.

A pipeline run has no worker: it is `running` while its elements run. Each element becomes one
child run (`parent` = the pipeline run, `pipeline_element` = the element's identifier) when its
rules hold, or a child row already `skipped` when they can no longer hold, or `cancelled` when
the pipeline is aborted first. So every element the pipeline reached has a row the website can
link to. Every change happens under a row lock on the pipeline run, so several masters finishing
children at the same moment never start an element twice.

Rules: an element's `after` is {element: [statuses]}; it starts once every element it depends
on ended with one of the statuses allowed for it, and is skipped as soon as one ended with
another status. The pipeline ends when every element is final: `succeeded` when each one
succeeded or was skipped by design (none failed), `aborted` when it was aborted, else `failed`.
"""

from dataclasses import dataclass, field

from django.db import transaction

from orchestra.audit import Actor
from orchestra.database import atomic, locked, retried_on_conflict
from runs.actions import JobDisabled, do_abort_run, do_trigger_run, finish_run, record_unstarted_run
from runs.models import ACTIVE_STATUSES, FINAL_STATUSES, Run, Status
from runs.parameters import ParameterError

# Element statuses that do not make the pipeline fail.
HARMLESS_STATUSES = (Status.SUCCEEDED, Status.SKIPPED)


@dataclass
class Decision:
    start: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)


def evaluate_elements(elements: list[dict], statuses: dict[str, str | None]) -> Decision:
    """Which elements to start and which to skip, given each element's status (None: no run yet).

    Skips cascade: an element skipped here counts as `skipped` for the elements after it.
    """
    statuses = dict(statuses)
    decision = Decision()
    changed = True
    while changed:
        changed = False
        for element in elements:
            identifier = element["identifier"]
            if statuses.get(identifier) is not None:
                continue
            ready, impossible = True, False
            for dependency, allowed in element.get("after", {}).items():
                status = statuses.get(dependency)
                if status not in FINAL_STATUSES:
                    ready = False
                elif status not in allowed:
                    impossible = True
            if impossible:
                statuses[identifier] = Status.SKIPPED
                decision.skip.append(identifier)
                changed = True
            elif ready:
                statuses[identifier] = Status.PENDING
                decision.start.append(identifier)
                changed = True
    return decision


def pipeline_outcome(
    elements: list[dict], statuses: dict[str, str | None], abort_requested: bool = False
) -> str | None:
    """The pipeline's final status once every element is final, else None."""
    values = [statuses.get(element["identifier"]) for element in elements]
    if any(status not in FINAL_STATUSES for status in values):
        return None
    if abort_requested:
        return Status.ABORTED
    if all(status in HARMLESS_STATUSES for status in values):
        return Status.SUCCEEDED
    return Status.FAILED


@dataclass
class ElementState:
    """One element as the website shows it: `run` is None until the pipeline reaches it."""

    identifier: str
    job: str
    after: dict[str, list[str]]
    run: Run | None

    @property
    def status(self) -> str:
        return self.run.status if self.run is not None else "waiting"


def defined_elements(pipeline: dict, runs: dict[str, Run] | None = None) -> list[ElementState]:
    """The elements of a pipeline definition in order, each with its run in `runs` if any."""
    runs = runs or {}
    return [
        ElementState(
            identifier=element["identifier"],
            job=element["job"],
            after=element.get("after", {}),
            run=runs.get(element["identifier"]),
        )
        for element in pipeline["elements"]
    ]


def pipeline_elements(run: Run) -> list[ElementState]:
    """The elements of a pipeline run in definition order, each with its child run if any."""
    if not run.job.is_pipeline:
        return []
    children = {child.pipeline_element: child for child in run.children.order_by("attempt", "id")}
    return defined_elements(run.job.pipeline, children)


def start_elements(sender, run: Run, **kwargs) -> None:
    """`run_triggered`: a new pipeline run starts the elements its rules allow, in the trigger's
    transaction."""
    if run.job.is_pipeline:
        _advance(run)


def abort_elements(sender, run: Run, actor: Actor, **kwargs) -> None:
    """`run_abort_requested`: abort the running elements and cancel the rest; the pipeline
    ends once none is active."""
    if not run.job.is_pipeline:
        return
    for child in run.children.filter(status__in=ACTIVE_STATUSES):
        do_abort_run(child, actor)
    reached = set(run.children.values_list("pipeline_element", flat=True))
    for element in run.job.pipeline["elements"]:
        if element["identifier"] not in reached:
            _record_element(run, element, Status.CANCELLED, f"cancelled by {actor.name}")
    transaction.on_commit(lambda: on_child_finished(run.pk))


def element_ended(sender, run: Run, parent_id: int | None, **kwargs) -> None:
    """`run_ended`: an element's end may start, skip or end things in its pipeline, once
    committed (the pipeline's row lock is taken then, never under the element's)."""
    if parent_id is not None:
        transaction.on_commit(lambda: on_child_finished(parent_id))


@retried_on_conflict
def on_child_finished(parent_id: int) -> None:
    """A child ended: start what its end allows, skip what it rules out, maybe end the pipeline."""
    with atomic():
        parent = locked(Run.objects.select_related("job", "project").filter(pk=parent_id)).first()
        if parent is None or parent.status not in ACTIVE_STATUSES:
            return
        _advance(parent)


def resume_pipelines() -> int:
    """Advance running pipelines none of whose children is active; returns how many.

    A child's end reaches its pipeline through an on-commit callback: a master that dies
    between the commit and the callback would leave the pipeline running forever without this.
    """
    stuck = (
        Run.objects.filter(status=Status.RUNNING, job__pipeline__isnull=False)
        .exclude(children__status__in=(Status.PENDING, Status.RUNNING))
        .values_list("pk", flat=True)
    )
    count = 0
    for pk in list(stuck):
        on_child_finished(pk)
        count += 1
    return count


def _statuses(run: Run) -> dict[str, str]:
    """Each reached element's status: its last attempt's, so a pipeline waits for a retry."""
    return dict(run.children.order_by("attempt", "id").values_list("pipeline_element", "status"))


def _advance(run: Run) -> None:
    """Apply the rules until nothing changes, then end the pipeline if every element is final.

    The caller holds the pipeline run's row lock (or has just created it).
    """
    elements = run.job.pipeline["elements"]
    by_identifier = {element["identifier"]: element for element in elements}
    if not run.abort_requested:
        while True:
            decision = evaluate_elements(elements, _statuses(run))
            if not decision.start and not decision.skip:
                break
            for identifier in decision.skip:
                _record_element(run, by_identifier[identifier], Status.SKIPPED, _why_skipped(run, by_identifier[identifier]))
            for identifier in decision.start:
                _start_element(run, by_identifier[identifier])
    outcome = pipeline_outcome(elements, _statuses(run), run.abort_requested)
    if outcome is not None:
        failed = [
            identifier
            for identifier, status in _statuses(run).items()
            if status not in HARMLESS_STATUSES
        ]
        message = f"elements not succeeded: {', '.join(sorted(failed))}" if failed else ""
        finish_run(run, outcome, message)


def _why_skipped(run: Run, element: dict) -> str:
    statuses = _statuses(run)
    reasons = [
        f"{dependency} ended {statuses[dependency]}, rule needs {' or '.join(allowed)}"
        for dependency, allowed in element.get("after", {}).items()
        if statuses.get(dependency) in FINAL_STATUSES and statuses[dependency] not in allowed
    ]
    return "skipped: " + "; ".join(reasons)


def _element_job(run: Run, element: dict):
    return run.project.jobs.filter(identifier=element["job"]).first()


def _element_actor(run: Run) -> Actor:
    """Elements are triggered on behalf of whoever triggered the pipeline (audited as theirs)."""
    return Actor(user=run.triggered_by)


def _start_element(run: Run, element: dict) -> None:
    job = _element_job(run, element)
    try:
        if job is None:
            raise JobDisabled(f"job {element['job']!r} does not exist")
        do_trigger_run(
            job,
            element.get("parameters", {}),
            _element_actor(run),
            source=Run.Source.PIPELINE,
            parent=run,
            pipeline_element=element["identifier"],
        )
    except (JobDisabled, ParameterError) as error:
        # The configuration changed under the pipeline: the element cannot run.
        _record_element(run, element, Status.EXCEPTION, f"cannot start: {error}")


def _record_element(run: Run, element: dict, status: str, message: str) -> None:
    """A child run for an element that will never run (skipped, cancelled, or impossible)."""
    record_unstarted_run(
        _element_job(run, element) or run.job, element.get("parameters", {}),
        _element_actor(run), status, message, parent=run, pipeline_element=element["identifier"],
    )
