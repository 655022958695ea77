"""Website pages of projects, jobs and schedules, and the job trigger form."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from orchestra import roles
from orchestra.audit import Actor
from orchestra.authorization import requires
from orchestra.website import filtered_list
from projects.actions import JobCannotBeEnabled, set_job_enabled, set_schedule_enabled
from projects.deliveries import hook_secret
from projects.filters import JobFilter, ProjectFilter, ScheduleFilter
from projects.forms import TriggerForm
from projects.models import Job, Project, Schedule
from projects.scheduler import schedule_next_tick
from projects.status import CACHE_SECONDS, revision_status
from runs.actions import JobDisabled, do_trigger_run
from runs.charts import history_chart, status_strip
from runs.history import STRIP_RUNS, histories, job_history, summarize
from runs.notifications import declared_notifications
from runs.parameters import ParameterError
from runs.pipeline_graph import render_pipeline_definition_svg
from runs.retention import describe_retention

RECENT_RUNS = 20


def _recent_runs(queryset):
    return queryset.select_related("project", "job", "worker").order_by("-created", "-id")[
        :RECENT_RUNS
    ]


@requires(roles.VIEW)
def project_list(request):
    listing = filtered_list(request, ProjectFilter, Project.objects.all())
    return render(request, "projects/project_list.html", {"listing": listing})


@requires(roles.VIEW)
def project_detail(request, project: str):
    project = get_object_or_404(Project, identifier=project)
    jobs = list(project.jobs.all())
    recent = histories([job.pk for job in jobs], STRIP_RUNS)
    for job in jobs:
        job.strip = status_strip(recent[job.pk]) if recent[job.pk] else None
        job.summary = summarize(recent[job.pk])
    context = {
        "project": project,
        "jobs": jobs,
        "schedules": project.schedules.select_related("job", "last_run"),
        "hooks": [
            (hook, bool(hook_secret(hook)))
            for hook in project.hooks.filter(is_configured=True).order_by("identifier")
        ],
        "recent_runs": _recent_runs(project.runs.all()),
    }
    return render(request, "projects/project_detail.html", context)


@requires(roles.VIEW)
def project_status(request, project: str):
    project = get_object_or_404(Project, identifier=project)
    status = revision_status(project)
    context = {"project": project, "status": status, "cache_seconds": CACHE_SECONDS}
    return render(request, "projects/project_status.html", context)


@requires(roles.VIEW)
def job_list(request):
    listing = filtered_list(request, JobFilter, Job.objects.select_related("project"))
    return render(request, "projects/job_list.html", {"listing": listing})


def _job(project: str, job: str) -> Job:
    return get_object_or_404(
        Job.objects.select_related("project"), project__identifier=project, identifier=job
    )


def _job_page(request, job: Job, form: TriggerForm, status: int = 200):
    history = job_history(job.pk)
    context = {"job": job, "form": form, "recent_runs": _recent_runs(job.runs.all()),
               "retention": describe_retention(job), "chart": history_chart(history),
               "summary": summarize(history), "graph": render_pipeline_definition_svg(job),
               "notifications": declared_notifications(job)}
    return render(request, "projects/job_detail.html", context, status=status)


@requires(roles.VIEW)
def job_detail(request, project: str, job: str):
    job = _job(project, job)
    return _job_page(request, job, TriggerForm(job))


@requires(roles.TRIGGER)
@require_POST
def job_trigger(request, project: str, job: str):
    job = _job(project, job)
    form = TriggerForm(job, request.POST)
    if form.is_valid():
        try:
            run = do_trigger_run(
                job, form.parameters(), Actor.from_request(request), priority=form.priority()
            )
        except ParameterError as error:
            form.add_parameter_error(error)
        except JobDisabled as error:
            # As the service answers: the request is fine, the job's state refuses it.
            form.add_error(None, str(error))
            return _job_page(request, job, form, status=409)
        else:
            return redirect(run)
    return _job_page(request, job, form, status=400)


def _enabled(request) -> bool:
    return request.POST.get("enabled") == "true"


@requires(roles.CHANGE_STATE)
@require_POST
def job_set_enabled(request, project: str, job: str):
    job = _job(project, job)
    try:
        set_job_enabled(job, _enabled(request), Actor.from_request(request))
    except JobCannotBeEnabled as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"Job {job} {'enabled' if _enabled(request) else 'disabled'}.")
    return redirect(job)


@requires(roles.VIEW)
def schedule_list(request):
    schedules = Schedule.objects.select_related("project", "job", "last_run")
    listing = filtered_list(request, ScheduleFilter, schedules)
    for schedule in listing.objects:
        schedule.next_tick = schedule_next_tick(schedule)
    return render(request, "projects/schedule_list.html", {"listing": listing})


@requires(roles.CHANGE_STATE)
@require_POST
def schedule_set_enabled(request, project: str, schedule: str):
    schedule = get_object_or_404(
        Schedule.objects.select_related("project"),
        project__identifier=project,
        identifier=schedule,
    )
    set_schedule_enabled(schedule, _enabled(request), Actor.from_request(request))
    state = "enabled" if _enabled(request) else "disabled"
    messages.success(request, f"Schedule {schedule} {state}.")
    return redirect("schedules")
