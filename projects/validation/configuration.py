"""Validation of configuration definitions into plain data for the database.

Every problem is collected with where it is (project, job, schedule or element) and which
field, so one start-up failure lists everything to fix. Values are checked with the rules
every other entry uses (`orchestra.values`, `runs.parameters`).
"""

from typing import Any

from django.conf import settings

from projects.definitions import Job, PipelineJob, Project, Schedule
from projects.hooks import normalize_hooks
from projects.notifications import normalize_notifications
from projects.secrets import SecretValues
from projects.validation.errors import ConfigurationError, Errors, describe
from projects.validation.fields import MAX_DISPLAY_NAME_LENGTH, valid_identifier, valid_text
from projects.validation.jobs import normalize_job
from projects.validation.pipelines import normalize_pipeline_job
from projects.validation.resources import validate_resources
from projects.validation.schedules import normalize_schedule

# The length of the database column repositories go to (projects.models).
MAX_REPOSITORY_LENGTH = 500


def validate_configuration(projects: Any, resources: Any = (),
                           secrets: SecretValues | None = None) -> tuple[list[dict], list[dict]]:
    """Plain data for the database from the definitions of projects and resources; raises
    ConfigurationError listing every problem. The secrets jobs declare are read into
    `secrets` (from this process's environment if not given)."""
    errors = Errors()
    secrets = SecretValues() if secrets is None else secrets
    providers = set(settings.REVISION_PROVIDERS)
    if not isinstance(projects, (list, tuple)):
        raise ConfigurationError(["`projects` must be a list of Project"])
    resources = validate_resources(errors, resources)
    resource_names = {resource["identifier"] for resource in resources}
    normalized: dict[str, dict] = {}
    for index, project in enumerate(projects):
        if not isinstance(project, Project):
            errors.add("configuration", f"projects[{index}]", f"must be a Project, got {type(project).__name__}")
            continue
        where = describe("project", project.identifier)
        if not valid_identifier(errors, where, project.identifier):
            continue
        if project.identifier in normalized:
            errors.add(where, "identifier", "duplicate project")
            continue
        normalized[project.identifier] = _normalize_project(
            errors, project, providers, resource_names, secrets
        )
    if errors.messages:
        raise ConfigurationError(errors.messages)
    return list(normalized.values()), resources


def validate_projects(projects: Any) -> list[dict]:
    """Plain data for the database from project definitions that use no resources."""
    return validate_configuration(projects)[0]


def _normalize_project(errors: Errors, project: Project, providers: set[str],
                       resources: set[str], secrets: SecretValues) -> dict:
    where = describe("project", project.identifier)
    valid_text(errors, where, project.display_name, "display_name",
               max_length=MAX_DISPLAY_NAME_LENGTH, one_line=True)
    valid_text(errors, where, project.description, "description")
    valid_text(errors, where, project.repository, "repository",
               max_length=MAX_REPOSITORY_LENGTH, one_line=True)
    valid_text(errors, where, project.repository_provider, "repository_provider", one_line=True)
    if project.repository and project.repository_provider not in providers:
        errors.add(
            where,
            "repository_provider",
            f"unknown provider {project.repository_provider!r} (use {', '.join(sorted(providers))})",
        )
    jobs = _normalize_jobs(errors, where, project, resources, secrets)
    return {
        "identifier": project.identifier,
        "display_name": project.display_name or project.identifier,
        "description": project.description,
        "repository": project.repository,
        "repository_provider": project.repository_provider if project.repository else "",
        "jobs": list(jobs.values()),
        "schedules": _normalize_schedules(errors, where, project, jobs),
        "hooks": normalize_hooks(errors, where, project.hooks, jobs),
        "notifications": normalize_notifications(errors, where, project.notifications),
    }


def _normalize_jobs(errors: Errors, where: str, project: Project, resources: set[str],
                    secrets: SecretValues) -> dict[str, dict]:
    """A project's jobs by identifier: plain jobs first, as pipelines refer to them."""
    jobs: dict[str, dict] = {}
    pipelines: list[tuple[str, PipelineJob]] = []
    if not isinstance(project.jobs, (list, tuple)):
        errors.add(where, "jobs", "must be a list of Job or PipelineJob")
    for index, job in enumerate(project.jobs if isinstance(project.jobs, (list, tuple)) else []):
        if not isinstance(job, (Job, PipelineJob)):
            errors.add(where, f"jobs[{index}]", f"must be a Job or PipelineJob, got {type(job).__name__}")
            continue
        job_where = f"{where}, job {job.identifier!r}"
        if not valid_identifier(errors, job_where, job.identifier):
            continue
        if job.identifier in jobs or job.identifier in dict(pipelines):
            errors.add(job_where, "identifier", "duplicate job")
            continue
        if isinstance(job, PipelineJob):
            pipelines.append((job.identifier, job))
        else:
            jobs[job.identifier] = normalize_job(errors, job_where, job, resources, secrets)
    plain_jobs = dict(jobs)
    pipeline_names = {name for name, _ in pipelines}
    for identifier, job in pipelines:
        jobs[identifier] = normalize_pipeline_job(
            errors, f"{where}, job {identifier!r}", job, plain_jobs, pipeline_names
        )
    return jobs


def _normalize_schedules(errors: Errors, where: str, project: Project,
                         jobs: dict[str, dict]) -> list[dict]:
    schedules: dict[str, dict] = {}
    if not isinstance(project.schedules, (list, tuple)):
        errors.add(where, "schedules", "must be a list of Schedule")
    for index, schedule in enumerate(
        project.schedules if isinstance(project.schedules, (list, tuple)) else []
    ):
        if not isinstance(schedule, Schedule):
            errors.add(where, f"schedules[{index}]", f"must be a Schedule, got {type(schedule).__name__}")
            continue
        schedule_where = f"{where}, schedule {schedule.identifier!r}"
        if not valid_identifier(errors, schedule_where, schedule.identifier):
            continue
        if schedule.identifier in schedules:
            errors.add(schedule_where, "identifier", "duplicate schedule")
            continue
        schedules[schedule.identifier] = normalize_schedule(errors, schedule_where, schedule, jobs)
    return list(schedules.values())
