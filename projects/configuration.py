"""Loading the configuration module at master start: validate everything, then sync the database.

The module named by ORCHESTRA_CONFIGURATION defines `projects = [Project(...), ...]` (and, if
its jobs hold any, `resources = [Resource(...), ...]`) with the classes of
`projects.definitions` (re-exported here). Validation (`projects.validation`) names
the project, the job, schedule or element, and the field of every problem, so a wrong definition
stops the master with a message that says where to look. The database keeps what the
configuration no longer defines (their runs stay), marked `is_configured=False` and disabled.
"""

import importlib
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction

from projects import models
from projects.definitions import (
    Element,
    Email,
    Job,
    Parameter,
    PipelineJob,
    Project,
    Resource,
    Schedule,
    Step,
    Webhook,
)
from projects.validation import ConfigurationError, validate_configuration, validate_projects
from runs import models as run_models

__all__ = [
    "ConfigurationError",
    "Element",
    "Email",
    "Job",
    "Parameter",
    "PipelineJob",
    "Project",
    "Resource",
    "Schedule",
    "Step",
    "SyncReport",
    "Webhook",
    "load_configuration",
    "validate_configuration",
    "validate_projects",
    "sync_projects",
]


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.removed)} no longer configured"
        )


def _save(model, lookup: dict, values: dict, label: str, report: SyncReport, enabled=None):
    """Create or update one row; `enabled` False disables, True re-enables a returning row."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        if enabled is not None:
            values = {**values, "is_enabled": enabled}
        instance = model.objects.create(**lookup, **values, is_configured=True)
        report.created.append(label)
        return instance
    changes = {name: value for name, value in values.items() if getattr(instance, name) != value}
    if not instance.is_configured:
        changes["is_configured"] = True
        if enabled is not None:
            changes["is_enabled"] = enabled
    elif enabled is False and instance.is_enabled:
        changes["is_enabled"] = False
    if changes:
        for name, value in changes.items():
            setattr(instance, name, value)
        instance.save(update_fields=list(changes))
        report.updated.append(label)
    return instance


SYNC_ATTEMPTS = 3


def sync_projects(projects: list[dict], resources: list[dict] | None = None) -> SyncReport:
    """Write validated projects (and resources, if given) to the database in one transaction.

    Masters started together sync at the same moment: the loser of a race to create a row gets
    an IntegrityError, and its next attempt finds the row and has nothing left to change.
    """
    attempts = 1
    while True:
        try:
            return _sync_projects(projects, resources)
        except IntegrityError:
            if attempts == SYNC_ATTEMPTS:
                raise
            attempts += 1


JOB_FIELDS = (
    "display_name", "description", "steps", "parameters", "properties", "pipeline", "timeout",
    "silence_timeout", "retries", "retry_on", "retry_delay", "max_concurrent_runs", "resources",
    "priority", "keep_runs", "keep_days", "notifications",
)


def _sync_resources(resources: list[dict], report: SyncReport) -> None:
    kept = []
    for resource in resources:
        row = _save(
            run_models.Resource, {"identifier": resource["identifier"]}, {"capacity": resource["capacity"]},
            f"resource {resource['identifier']}", report,
        )
        kept.append(row.pk)
    gone = run_models.Resource.objects.filter(is_configured=True).exclude(pk__in=kept)
    report.removed.extend(f"resource {row}" for row in gone)
    gone.update(is_configured=False)


def _sync_projects(projects: list[dict], resources: list[dict] | None) -> SyncReport:
    report = SyncReport()
    with transaction.atomic():
        if resources is not None:
            _sync_resources(resources, report)
        kept_projects, kept_jobs, kept_schedules = [], [], []
        for project in projects:
            project_row = _save(
                models.Project,
                {"identifier": project["identifier"]},
                {
                    name: project[name]
                    for name in ("display_name", "description", "repository", "repository_provider",
                                 "notifications")
                },
                f"project {project['identifier']}",
                report,
            )
            kept_projects.append(project_row.pk)
            job_rows = {}
            for job in project["jobs"]:
                values = {name: job[name] for name in JOB_FIELDS}
                job_rows[job["identifier"]] = _save(
                    models.Job,
                    {"project": project_row, "identifier": job["identifier"]},
                    values,
                    f"job {project['identifier']}/{job['identifier']}",
                    report,
                    enabled=job["enabled"],
                )
                kept_jobs.append(job_rows[job["identifier"]].pk)
            for schedule in project["schedules"]:
                values = {
                    "job": job_rows[schedule["job"]],
                    "expression": schedule["expression"],
                    "timezone": schedule["timezone"],
                    "parameters": schedule["parameters"],
                }
                row = _save(
                    models.Schedule,
                    {"project": project_row, "identifier": schedule["identifier"]},
                    values,
                    f"schedule {project['identifier']}/{schedule['identifier']}",
                    report,
                    enabled=schedule["enabled"],
                )
                kept_schedules.append(row.pk)
        for model, kept, kind in (
            (models.Project, kept_projects, "project"),
            (models.Job, kept_jobs, "job"),
            (models.Schedule, kept_schedules, "schedule"),
        ):
            gone = model.objects.filter(is_configured=True).exclude(pk__in=kept)
            report.removed.extend(f"{kind} {row}" for row in gone)
            values = {"is_configured": False}
            if model is not models.Project:
                values["is_enabled"] = False
            gone.update(**values)
    return report


def load_configuration(module_name: str | None = None) -> SyncReport:
    """Import the configuration module, validate it and write it to the database."""
    module_name = module_name or settings.CONFIGURATION_MODULE
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise ConfigurationError(
            [f"ORCHESTRA_CONFIGURATION: cannot import {module_name!r}: {error!r}"]
        ) from error
    if not hasattr(module, "projects"):
        raise ConfigurationError([f"module {module_name!r} defines no `projects` list"])
    projects, resources = validate_configuration(module.projects, getattr(module, "resources", []))
    return sync_projects(projects, resources)
