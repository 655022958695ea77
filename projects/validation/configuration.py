"""Validation of configuration definitions into plain data for the database.

Every problem is collected with where it is (project, job, schedule or element) and which
field, so one start-up failure lists everything to fix. Values are checked with the rules
every other entry uses (`orchestra.values`, `runs.parameters`).
"""

from functools import partial
from typing import Any

from django.conf import settings

from projects.definitions import Job, PipelineJob, Project, Schedule
from projects.hooks import normalize_hooks
from projects.notifications import normalize_notifications
from projects.secrets import SecretValues
from projects.validation.errors import ConfigurationError, Errors, describe
from projects.validation.fields import MAX_DISPLAY_NAME_LENGTH, valid_text
from projects.validation.jobs import normalize_job
from projects.validation.lists import identified
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
    normalized = [
        _normalize_project(errors, where, project, providers, resource_names, secrets)
        for where, project in identified(
            errors, "configuration", "projects", projects, (Project,), partial(describe, "project")
        )
    ]
    if errors.messages:
        raise ConfigurationError(errors.messages)
    return normalized, resources


def validate_projects(projects: Any) -> list[dict]:
    """Plain data for the database from project definitions that use no resources."""
    return validate_configuration(projects)[0]


def _normalize_project(errors: Errors, where: str, project: Project, providers: set[str],
                       resources: set[str], secrets: SecretValues) -> dict:
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
    for job_where, job in identified(errors, where, "jobs", project.jobs, (Job, PipelineJob),
                                     lambda identifier: f"{where}, job {identifier!r}"):
        if isinstance(job, PipelineJob):
            pipelines.append((job_where, job))
        else:
            jobs[job.identifier] = normalize_job(errors, job_where, job, resources, secrets)
    plain_jobs = dict(jobs)
    pipeline_names = {job.identifier for _, job in pipelines}
    for job_where, job in pipelines:
        jobs[job.identifier] = normalize_pipeline_job(errors, job_where, job, plain_jobs, pipeline_names)
    return jobs


def _normalize_schedules(errors: Errors, where: str, project: Project,
                         jobs: dict[str, dict]) -> list[dict]:
    return [
        normalize_schedule(errors, schedule_where, schedule, jobs)
        for schedule_where, schedule in identified(
            errors, where, "schedules", project.schedules, (Schedule,),
            lambda identifier: f"{where}, schedule {identifier!r}",
        )
    ]
