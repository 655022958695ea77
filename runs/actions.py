"""One function per state change of a run. Views, consumers, commands and tests call these."""

from django.db import transaction
from django.utils import timezone

from orchestra import audit
from orchestra.audit import Actor
from runs.models import Run, RunStep, Status
from runs.parameters import resolve_parameters


class JobDisabled(Exception):
    pass


def do_trigger_run(
    job,
    parameters: dict | None,
    actor: Actor,
    *,
    source: str = Run.Source.USER,
    schedule=None,
    parent: Run | None = None,
    pipeline_element: str = "",
) -> Run:
    """Create a pending run of `job` and wake the workers. Raises ParameterError, JobDisabled."""
    if not job.can_be_triggered:
        raise JobDisabled(f"job {job} is disabled")
    resolved = resolve_parameters(job.parameters, parameters)
    with transaction.atomic():
        run = Run.objects.create(
            project=job.project,
            job=job,
            parameters=resolved,
            source=source,
            triggered_by=actor.user,
            schedule=schedule,
            parent=parent,
            pipeline_element=pipeline_element,
        )
        RunStep.objects.bulk_create(
            RunStep(run=run, index=index, name=step["name"])
            for index, step in enumerate(job.steps)
        )
        audit.record(actor, "run.trigger", run.identifier, job=str(job), parameters=resolved)
        if job.is_pipeline:
            from runs.pipelines import start_pipeline

            start_pipeline(run)
        else:
            from workers.dispatch import wake_workers

            transaction.on_commit(wake_workers)
    return run


def do_abort_run(run: Run, actor: Actor) -> Run:
    """A pending run is cancelled at once; a running one is asked to stop on its worker."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if not run.is_active:
            return run
        audit.record(actor, "run.abort", run.identifier)
        if run.job.is_pipeline:
            from runs.pipelines import abort_pipeline

            abort_pipeline(run, actor)
        if run.status == Status.PENDING and run.worker_id is None:
            finish_run(run, Status.CANCELLED, f"cancelled by {actor.name}")
        else:
            Run.objects.filter(pk=run.pk).update(abort_requested=True)
            run.abort_requested = True
            if run.worker_id:
                from workers.dispatch import send_abort

                transaction.on_commit(lambda: send_abort(run.worker_id, run.identifier))
    return run


def finish_run(run: Run, status: str, message: str = "") -> None:
    """End a run (any final status), its unfinished steps, and tell a parent pipeline."""
    now = timezone.now()
    Run.objects.filter(pk=run.pk).update(
        status=status, status_message=message or run.status_message, completed=now
    )
    run.status, run.completed = status, now
    if message:
        run.status_message = message
    # A step cut short shares the run's fate; a step that never started was cancelled.
    RunStep.objects.filter(run=run, status=Status.RUNNING).update(status=status, completed=now)
    RunStep.objects.filter(run=run, status=Status.PENDING).update(status=Status.CANCELLED)
    if run.parent_id:
        from runs.pipelines import on_child_finished

        transaction.on_commit(lambda: on_child_finished(run.parent_id))


def mark_run_exception(run: Run, actor: Actor) -> Run:
    """An administrator gives up on a run whose worker is lost: it ends `exception`.

    If the worker returns later, the master tells it to drop the run (docs/protocol.md).
    """
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if not run.is_active:
            return run
        worker = run.worker.identifier if run.worker_id else "no worker"
        audit.record(actor, "run.mark_exception", run.identifier, worker=worker)
        finish_run(run, Status.EXCEPTION, f"marked as exception by {actor.name} ({worker} lost)")
    return run
