"""Website pages of runs: the runs list, a run, its log and its archive."""

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from orchestra import roles
from orchestra.audit import Actor
from orchestra.authorization import requires
from orchestra.website import filtered_list
from runs.actions import do_abort_run, do_mark_run_exception
from runs.archive import archive_response
from runs.filters import RunFilter
from runs.logs import LogRangeError, log_range, step_log_response, step_logs
from runs.models import Run, Status
from runs.pipeline_graph import render_pipeline_svg
from runs.progress import job_estimates, progress_of, run_estimates
from runs.queue import waiting_reason
from runs.serializers import notifications_of

# Bytes of log shown inline, shared by all steps of a run; the raw route has the rest.
LOG_PAGE_TAIL = 16_000
RUN_PAGE_TAIL = 3_000


# What the run tables show. Read as plain values, shaped like runs (`run.project.identifier`
# works alike in templates): 50 model instances with their project, job and worker, and the
# template's lookups on them, cost more than all the list's queries.
RUN_ROW_FIELDS = ("pk", "identifier", "status", "source", "created", "started", "completed",
                  "job_id", "project__identifier", "job__identifier", "worker__identifier")


def run_rows(keys) -> dict[int, dict]:
    """The rows by key; a running one with its `progress` (one more query when any runs)."""
    rows = {}
    for values in Run.objects.filter(pk__in=keys).order_by().values(*RUN_ROW_FIELDS):
        worker = values.pop("worker__identifier")
        values["project"] = {"identifier": values.pop("project__identifier")}
        values["job"] = {"identifier": values.pop("job__identifier")}
        values["worker"] = {"identifier": worker} if worker is not None else None
        rows[values["pk"]] = values
    running = [row for row in rows.values() if row["status"] == Status.RUNNING]
    if running:
        estimates, now = run_estimates(row["job_id"] for row in running), timezone.now()
        for row in running:
            row["progress"] = progress_of(row["started"], estimates[row["job_id"]], now)
    return rows


def newest_run_keys(statuses, count: int) -> list[int]:
    """Keys of the newest `count` runs having any of `statuses`: one query per status, each
    reading the (status, created) index backwards, where one IN query would sort every
    matching run. Keys only: the rows are loaded once, for all of a page's tables together."""
    found = []
    for status in statuses:
        runs = Run.objects.filter(status=status).order_by("-created", "-id")
        found += runs.values_list("created", "pk")[:count]
    return [pk for created, pk in sorted(found, reverse=True)[:count]]


@requires(roles.VIEW)
def run_list(request):
    listing = filtered_list(request, RunFilter, Run.objects.all(), rows=run_rows)
    ticking = any(row.get("progress") for row in listing.objects)
    return render(request, "runs/run_list.html", {"listing": listing, "ticking": ticking})


def _run(identifier: str) -> Run:
    # The optional relations are fetched apart, and only when set: joining all seven tables
    # took PostgreSQL 7 ms to plan, fifteen times the time to run.
    return get_object_or_404(
        Run.objects.select_related("project", "job", "worker").prefetch_related(
            "parent__job", "schedule", "triggered_by", "retry_of"
        ),
        identifier=identifier,
    )


@requires(roles.VIEW)
def run_detail(request, identifier: str):
    run = _run(identifier)
    steps = list(run.steps.all())
    progress = None
    if run.status == Status.RUNNING:
        estimates, now = job_estimates(run.job_id), timezone.now()
        progress = progress_of(run.started, estimates.run, now)
        for step in steps:
            if step.status == Status.RUNNING:
                step.progress = progress_of(step.started, estimates.step(step.index, step.name), now)
    context = {
        "run": run,
        "progress": progress,
        "steps": steps,
        "logs": step_logs(run, steps, RUN_PAGE_TAIL),
        "results": sorted(run.results.items()) if isinstance(run.results, dict) else [],
        "parameters": sorted(run.parameters.items()) if isinstance(run.parameters, dict) else [],
        "children": run.children.select_related("job", "worker").order_by("created", "id")
        if run.job.is_pipeline else [],
        "graph": render_pipeline_svg(run) if run.job.is_pipeline else "",
        "unmatched_reason": waiting_reason(run) if run.status == Status.PENDING else "",
        "retries": run.retries.order_by("attempt", "id") if not run.job.is_pipeline else [],
        "notifications": notifications_of(run),
    }
    return render(request, "runs/run_detail.html", context)


@requires(roles.VIEW)
def run_log(request, identifier: str):
    run = _run(identifier)
    steps = list(run.steps.all())
    context = {"run": run, "logs": step_logs(run, steps, LOG_PAGE_TAIL)}
    return render(request, "runs/run_log.html", context)


@requires(roles.VIEW)
def step_raw_log(request, identifier: str, index: int):
    """One step's whole log as text (`offset` and `limit` as on the service): the link for
    long logs."""
    try:
        offset, limit = log_range(request.GET)
    except LogRangeError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    return step_log_response(identifier, index, offset, limit)


@requires(roles.DOWNLOAD)
def run_archive(request, identifier: str):
    return archive_response(_run(identifier))


@requires(roles.ABORT)
@require_POST
def run_abort(request, identifier: str):
    run = _run(identifier)
    do_abort_run(run, Actor.from_request(request))
    return redirect(run)


@requires(roles.ABORT)
@require_POST
def run_mark_exception(request, identifier: str):
    run = _run(identifier)
    if do_mark_run_exception(run, Actor.from_request(request)):
        messages.success(request, f"Run {identifier} marked as exception.")
    else:
        messages.error(request, f"Run {identifier} already ended {run.status}.")
    return redirect(run)


__all__ = ["run_list", "run_detail", "run_log", "step_raw_log", "run_archive",
           "run_abort", "run_mark_exception"]
