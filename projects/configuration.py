"""Loading the configuration module at master start: validate everything, then sync the database.

The module named by ORCHESTRA_CONFIGURATION defines `projects = [Project(...), ...]` (and, if
its jobs hold any, `resources = [Resource(...), ...]`) with the classes of
`projects.definitions` (re-exported here). Validation (`projects.validation`) names
the project, the job, schedule or element, and the field of every problem, so a wrong definition
stops the master with a message that says where to look. The database keeps what the
configuration no longer defines (their runs stay), marked `is_configured=False` and disabled.
"""

import hashlib
import importlib
import json
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.db import IntegrityError

from orchestra.database import atomic
from projects import models
from projects.definitions import (
    Element,
    Hook,
    Email,
    Job,
    Parameter,
    PipelineJob,
    Project,
    Resource,
    Schedule,
    Secret,
    Step,
    Webhook,
)
from orchestra.values import InvalidValue, check_count, shown
from projects.secrets import SecretValues, hold
from projects.validation import ConfigurationError, validate_configuration, validate_projects
from runs import models as run_models

__all__ = [
    "ConfigurationError",
    "Element",
    "Hook",
    "Email",
    "Job",
    "Parameter",
    "PipelineJob",
    "Project",
    "Resource",
    "Schedule",
    "Secret",
    "Step",
    "LoadedConfiguration",
    "SyncReport",
    "Webhook",
    "load_configuration",
    "read_configuration",
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
    elif enabled and getattr(instance, "disabled_reason", "") and not values.get("disabled_reason"):
        # The master disabled it for a reason (a secret it could not read) that is gone.
        changes["is_enabled"] = True
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
    "priority", "keep_runs", "keep_days", "secrets", "disabled_reason",
    "notifications",
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
    with atomic():
        if resources is not None:
            _sync_resources(resources, report)
        kept_projects, kept_jobs, kept_schedules, kept_hooks = [], [], [], []
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
                    enabled=job["enabled"] and not job["disabled_reason"],
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
            for hook in project["hooks"]:
                row = _save(
                    models.Hook,
                    {"project": project_row, "identifier": hook["identifier"]},
                    {"secret_variable": hook["secret_variable"], "jobs": hook["jobs"]},
                    f"hook {project['identifier']}/{hook['identifier']}",
                    report,
                )
                kept_hooks.append(row.pk)
        for model, kept, kind in (
            (models.Project, kept_projects, "project"),
            (models.Job, kept_jobs, "job"),
            (models.Schedule, kept_schedules, "schedule"),
            (models.Hook, kept_hooks, "hook"),
        ):
            gone = list(model.objects.filter(is_configured=True).exclude(pk__in=kept))
            report.removed.extend(f"{kind} {row}" for row in gone)
            values = {"is_configured": False}
            if model in (models.Job, models.Schedule):
                values["is_enabled"] = False
            # By key: the rows' order joined other tables, and MongoDB updates one alone.
            model.objects.filter(pk__in=[row.pk for row in gone]).update(**values)
    return report


@dataclass(frozen=True)
class LoadedConfiguration:
    """A configuration module's definitions, validated: plain data for the database, and the
    `version` the module declares (None when it declares none)."""

    projects: list[dict]
    resources: list[dict]
    version: int | None = None
    # The values of the secrets its jobs declare, read from this process's environment:
    # held once the configuration is written (projects.secrets.hold), never fingerprinted.
    secrets: SecretValues = field(default_factory=SecretValues, compare=False)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON of what the database would hold: the same for the
        same definitions in any order of projects, jobs, schedules or resources, in any
        process; different as soon as anything written to the database differs."""

        def by_identifier(items: list[dict]) -> list[dict]:
            return sorted(items, key=lambda item: item["identifier"])

        canonical = {
            "version": self.version,
            "resources": by_identifier(self.resources),
            "projects": by_identifier([
                {**project, "jobs": by_identifier(project["jobs"]),
                 "schedules": by_identifier(project["schedules"])}
                for project in self.projects
            ]),
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest()


def read_configuration(module_name: str | None = None) -> LoadedConfiguration:
    """Import the configuration module and validate it, writing nothing."""
    module_name = module_name or settings.CONFIGURATION_MODULE
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise ConfigurationError(
            [f"ORCHESTRA_CONFIGURATION: cannot import {module_name!r}: {error!r}"]
        ) from error
    if not hasattr(module, "projects"):
        raise ConfigurationError([f"module {module_name!r} defines no `projects` list"])
    version = getattr(module, "version", None)
    if version is not None:
        # Compared with the version in force (projects/configuration_in_force.py).
        try:
            check_count(version, "version")
        except InvalidValue as error:
            raise ConfigurationError(
                [f"module {module_name!r}, field 'version': {error.message}, got {shown(version)}"]
            )
    secrets = SecretValues()
    projects, resources = validate_configuration(
        module.projects, getattr(module, "resources", []), secrets
    )
    return LoadedConfiguration(projects, resources, version, secrets)


def load_configuration(module_name: str | None = None) -> SyncReport:
    """Import the configuration module, validate it and write it to the database."""
    configuration = read_configuration(module_name)
    report = sync_projects(configuration.projects, configuration.resources)
    hold(configuration.secrets)
    return report
