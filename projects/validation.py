"""Validation of configuration definitions into plain data for the database.

Every problem is collected with where it is (project, job, schedule or element) and which
field, so one start-up failure lists everything to fix. Values are checked with the rules
every other entry uses (`orchestra.values`, `runs.parameters`).
"""

import string
import zoneinfo
from typing import Any

from croniter import croniter
from django.conf import settings

from orchestra.values import (
    PARAMETER_NAME,
    InvalidValue,
    check_identifier,
    check_properties,
    check_scalar,
    check_text,
    encoded_size,
    shown,
)
from projects.secrets import SecretValues, normalize_job_secrets
from projects.definitions import (
    Element,
    Job,
    Parameter,
    PipelineJob,
    Project,
    Resource,
    Schedule,
    Step,
)
from projects.hooks import normalize_hooks
from projects.notifications import normalize_notifications
from runs.models import FINAL_STATUSES
from runs.parameters import (
    MAX_PARAMETER_BYTES,
    MAX_PARAMETERS_BYTES,
    ParameterError,
    check_parameter_value,
    resolve_parameters,
)

# Names the executor puts beside the parameters when formatting commands (docs/configuration.md).
RESERVED_NAMES = frozenset(
    {
        "environment",
        "run_identifier",
        "project",
        "job",
        "worker",
        "run_directory",
        "workspace_directory",
        "results_file",
        "results",
        "parameters",
    }
)
ANY_STATUS = "any"
SCALAR_TYPES = (str, int, float, bool)
# Statuses a run may be retried after: an aborted run was stopped on purpose, and the others
# never ran or ran well.
RETRYABLE_STATUSES = ("failed", "exception")
DEFAULT_RETRY_ON = ["exception"]
PRIORITY_RANGE = (-1000, 1000)
# A day: a longer timeout is no bound at all, and every limit stays far from overflows.
LONGEST_TIMEOUT = 30 * 24 * 3600
# A job's steps, as JSON the way the worker receives them: with the parameters
# (runs.parameters), a run request stays well under the 1 MiB of a WebSocket message.
MAX_STEPS = 200
MAX_STEPS_BYTES = 256 * 1024
# The lengths of the database columns these texts go to (projects.models, runs.models).
MAX_DISPLAY_NAME_LENGTH = 200
MAX_REPOSITORY_LENGTH = 500
MAX_STEP_NAME_LENGTH = 200
MAX_CRON_LENGTH = 200


class ConfigurationError(Exception):
    """The configuration cannot be used; `errors` lists every problem found, one per line."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("invalid configuration:\n  " + "\n  ".join(self.errors))


# A pipeline's own run holds no worker: its elements are bounded by their own jobs.
PIPELINE_BOUNDS = {
    "timeout": None, "silence_timeout": None, "retries": 0, "retry_on": DEFAULT_RETRY_ON,
    "retry_delay": 0, "max_concurrent_runs": 0, "resources": [], "priority": 0,
}


def final_statuses() -> tuple[str, ...]:
    return tuple(str(status) for status in FINAL_STATUSES)


class _Errors:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, where: str, field_name: str, message: str) -> None:
        self.messages.append(f"{where}, field {field_name!r}: {message}")

    def invalid(self, where: str, error: InvalidValue) -> None:
        self.add(where, error.field, error.message)


def _describe(kind: str, value: Any) -> str:
    return f"{kind} {shown(value)}"


def _check_identifier(errors: _Errors, where: str, value: Any) -> bool:
    try:
        check_identifier(value, "identifier")
    except InvalidValue as error:
        errors.invalid(where, error)
        return False
    return True


def _check_text(errors: _Errors, where: str, value: Any, field_name: str, **rules) -> bool:
    if not isinstance(value, str):
        errors.add(where, field_name, f"must be a string, got {type(value).__name__}")
        return False
    try:
        check_text(value, field_name, **rules)
    except InvalidValue as error:
        errors.invalid(where, error)
        return False
    return True


def _check_format_string(errors: _Errors, where: str, value: str, field_name: str) -> None:
    try:
        list(string.Formatter().parse(value))
    except ValueError as error:
        errors.add(where, field_name, f"invalid format string {value!r}: {error}")


def _normalize_steps(errors: _Errors, where: str, steps: Any) -> list[dict]:
    if not isinstance(steps, (list, tuple)) or not steps:
        errors.add(where, "steps", "must be a non-empty list of Step")
        return []
    normalized = []
    for index, step in enumerate(steps):
        name = f"steps[{index}]"
        if isinstance(step, dict):
            step = Step(**{name: step.get(name) for name in ("name", "command", "timeout", "silence_timeout")})
        if not isinstance(step, Step):
            errors.add(where, name, f"must be a Step, got {type(step).__name__}")
            continue
        if not isinstance(step.name, str) or not step.name.strip():
            errors.add(where, f"{name}.name", "must be a non-empty string")
        else:
            _check_text(errors, where, step.name, f"{name}.name",
                        max_length=MAX_STEP_NAME_LENGTH, one_line=True)
        command = step.command
        if (
            not isinstance(command, (list, tuple))
            or not command
            or not all(isinstance(argument, str) for argument in command)
        ):
            errors.add(where, f"{name}.command", "must be a non-empty list of strings")
            continue
        for index, argument in enumerate(command):
            # NUL cannot be in a program's argument: the run would end `exception`.
            if _check_text(errors, where, argument, f"{name}.command[{index}]"):
                _check_format_string(errors, where, argument, f"{name}.command")
        normalized.append({
            "name": step.name,
            "command": list(command),
            **_timeouts(errors, where, step, prefix=f"{name}."),
        })
    if len(normalized) > MAX_STEPS:
        errors.add(where, "steps", f"has {len(normalized)} steps, more than the {MAX_STEPS} allowed")
    size = encoded_size(normalized)
    if size > MAX_STEPS_BYTES:
        errors.add(
            where, "steps",
            f"the steps are {size} bytes as JSON, more than the {MAX_STEPS_BYTES} allowed",
        )
    return normalized


def _check_seconds(errors: _Errors, where: str, value: Any, field_name: str) -> float | None:
    """A positive number of seconds (None: no limit)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= LONGEST_TIMEOUT:
        errors.add(where, field_name, f"must be a number of seconds above 0, at most {LONGEST_TIMEOUT}")
        return None
    return value


def _check_whole(errors: _Errors, where: str, value: Any, field_name: str, low: int, high: int,
                 allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.add(where, field_name, f"must be a whole number from {low} to {high}")
        return None if allow_none else low
    return value


def _timeouts(errors: _Errors, where: str, definition: Step | Job, prefix: str = "") -> dict:
    """The timeouts a step or a job declares, only those set (steps' JSON stays small)."""
    declared = {}
    for name in ("timeout", "silence_timeout"):
        seconds = _check_seconds(errors, where, getattr(definition, name, None), f"{prefix}{name}")
        if seconds is not None:
            declared[name] = seconds
    return declared


def _retention(errors: _Errors, where: str, job: Job | PipelineJob) -> dict:
    return {
        "keep_runs": _check_whole(errors, where, job.keep_runs, "keep_runs", 1, 10**9, allow_none=True),
        "keep_days": _check_whole(errors, where, job.keep_days, "keep_days", 1, 100_000, allow_none=True),
    }


def _bounds(errors: _Errors, where: str, job: Job, resources: set[str]) -> dict:
    """A job's timeouts, retries, concurrency limit, resources, priority and retention."""
    retry_on = job.retry_on
    if isinstance(retry_on, str):
        retry_on = [retry_on]
    if not isinstance(retry_on, (list, tuple)) or not all(
        status in RETRYABLE_STATUSES for status in retry_on
    ):
        errors.add(where, "retry_on", f"must be a list of {' and '.join(RETRYABLE_STATUSES)}")
        retry_on = DEFAULT_RETRY_ON
    job_resources = job.resources
    if not isinstance(job_resources, (list, tuple)) or not all(
        isinstance(name, str) for name in job_resources
    ):
        errors.add(where, "resources", "must be a list of resource identifiers")
        job_resources = []
    for name in job_resources:
        if name not in resources:
            errors.add(where, "resources", f"unknown resource {name!r} (declare it in `resources`)")
    retry_delay = job.retry_delay
    if isinstance(retry_delay, bool) or not isinstance(retry_delay, (int, float)) or not 0 <= retry_delay <= LONGEST_TIMEOUT:
        errors.add(where, "retry_delay", f"must be a number of seconds from 0 to {LONGEST_TIMEOUT}")
        retry_delay = 0
    return {
        "timeout": None, "silence_timeout": None, **_timeouts(errors, where, job),
        "retries": _check_whole(errors, where, job.retries, "retries", 0, 100),
        "retry_on": sorted(set(retry_on), key=RETRYABLE_STATUSES.index),
        "retry_delay": retry_delay,
        "max_concurrent_runs": _check_whole(
            errors, where, job.max_concurrent_runs, "max_concurrent_runs", 0, 10**6
        ),
        "resources": sorted(set(job_resources)),
        "priority": _check_whole(errors, where, job.priority, "priority", *PRIORITY_RANGE),
        **_retention(errors, where, job),
    }


def validate_resources(errors: _Errors, resources: Any) -> list[dict]:
    if not isinstance(resources, (list, tuple)):
        errors.add("configuration", "resources", "must be a list of Resource")
        return []
    normalized: dict[str, dict] = {}
    for index, resource in enumerate(resources):
        if not isinstance(resource, Resource):
            errors.add("configuration", f"resources[{index}]", f"must be a Resource, got {type(resource).__name__}")
            continue
        where = _describe("resource", resource.identifier)
        if not _check_identifier(errors, where, resource.identifier):
            continue
        if resource.identifier in normalized:
            errors.add(where, "identifier", "duplicate resource")
            continue
        capacity = _check_whole(errors, where, resource.capacity, "capacity", 1, 10**6)
        normalized[resource.identifier] = {"identifier": resource.identifier, "capacity": capacity}
    return list(normalized.values())


def _normalize_parameters(errors: _Errors, where: str, parameters: Any) -> list[dict]:
    if not isinstance(parameters, (list, tuple)):
        errors.add(where, "parameters", "must be a list of Parameter")
        return []
    normalized, seen, defaults = [], set(), {}
    for index, parameter in enumerate(parameters):
        name = f"parameters[{index}]"
        if not isinstance(parameter, Parameter):
            errors.add(where, name, f"must be a Parameter, got {type(parameter).__name__}")
            continue
        if not isinstance(parameter.name, str) or not PARAMETER_NAME.fullmatch(parameter.name):
            errors.add(where, f"{name}.name", f"{shown(parameter.name)} is not a Python identifier")
            continue
        name = f"parameters.{parameter.name}"
        if parameter.name in RESERVED_NAMES:
            errors.add(where, name, "this name is reserved for command formatting")
        if parameter.name in seen:
            errors.add(where, name, "duplicate parameter")
        seen.add(parameter.name)
        _check_text(errors, where, parameter.description, f"{name}.description")
        if not isinstance(parameter.required, bool):
            errors.add(where, f"{name}.required", "must be True or False")
        declaration = {
            "name": parameter.name,
            "description": parameter.description,
            "required": bool(parameter.required),
            **_normalize_bounds(errors, where, parameter, name),
        }
        if parameter.default is not None:
            if parameter.required:
                errors.add(where, f"{name}.default", "a required parameter has no default")
            try:
                defaults[parameter.name] = check_parameter_value(declaration, parameter.default)
            except ParameterError as error:
                errors.add(where, f"{name}.default", error.message)
            declaration["default"] = parameter.default
        normalized.append(declaration)
    size = encoded_size(defaults)
    if size > MAX_PARAMETERS_BYTES:
        errors.add(
            where, "parameters",
            f"the defaults are {size} bytes as JSON, more than the {MAX_PARAMETERS_BYTES} "
            "allowed together",
        )
    return normalized


def _normalize_bounds(errors: _Errors, where: str, parameter: Parameter, name: str) -> dict:
    """`minimum`, `maximum` and `max_length` of a declaration, those given."""
    bounds = {}
    for bound in ("minimum", "maximum"):
        value = getattr(parameter, bound)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.add(where, f"{name}.{bound}", "must be a number")
            continue
        try:
            bounds[bound] = check_scalar(value, f"{name}.{bound}")
        except InvalidValue as error:
            errors.invalid(where, error)
    if "minimum" in bounds and "maximum" in bounds and bounds["minimum"] > bounds["maximum"]:
        errors.add(where, f"{name}.minimum", "is more than the maximum")
    if parameter.max_length is not None:
        length = parameter.max_length
        if (
            isinstance(length, bool) or not isinstance(length, int)
            or not 0 < length <= MAX_PARAMETER_BYTES
        ):
            errors.add(where, f"{name}.max_length",
                       f"must be a whole number from 1 to {MAX_PARAMETER_BYTES}")
        else:
            bounds["max_length"] = length
        if parameter.minimum is not None or parameter.maximum is not None:
            errors.add(where, name, "is either a number (minimum, maximum) or text (max_length)")
    return bounds


def _normalize_properties(errors: _Errors, where: str, properties: Any) -> dict:
    try:
        return dict(check_properties(properties, "properties"))
    except InvalidValue as error:
        errors.invalid(where, error)
        return {}


def _check_given_parameters(
    errors: _Errors, where: str, declarations: list[dict], given: Any
) -> dict:
    if not isinstance(given, dict):
        errors.add(where, "parameters", "must be a dict")
        return {}
    try:
        resolve_parameters(declarations, given)
    except ParameterError as error:
        errors.add(where, error.field, error.message)
    return dict(given)


def _normalize_rules(errors: _Errors, where: str, after: Any, elements: set[str]) -> dict:
    """{element: [statuses]} from either form of `after`."""
    if after is None:
        return {}
    if isinstance(after, (list, tuple)):
        after = {identifier: ["succeeded"] for identifier in after}
    if not isinstance(after, dict):
        errors.add(where, "after", "must be a list of elements or a dict {element: [statuses]}")
        return {}
    allowed = final_statuses()
    rules = {}
    for dependency, statuses in after.items():
        if dependency not in elements:
            errors.add(where, "after", f"unknown element {dependency!r}")
            continue
        if isinstance(statuses, str):
            statuses = [statuses]
        if not isinstance(statuses, (list, tuple)) or not statuses:
            errors.add(where, f"after.{dependency}", "must be a non-empty list of statuses")
            continue
        expanded: list[str] = []
        for status in statuses:
            if status == ANY_STATUS:
                expanded.extend(allowed)
            elif status in allowed:
                expanded.append(status)
            else:
                errors.add(
                    where,
                    f"after.{dependency}",
                    f"unknown status {status!r} (use {', '.join(allowed)} or {ANY_STATUS!r})",
                )
        rules[dependency] = sorted(set(expanded), key=allowed.index)
    return rules


def _find_cycle(rules: dict[str, dict]) -> list[str] | None:
    """A dependency cycle among elements as a path, or None."""
    visiting, done = set(), set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in visiting:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        visiting.add(node)
        for dependency in rules.get(node, {}):
            cycle = visit(dependency, path + [node])
            if cycle:
                return cycle
        visiting.discard(node)
        done.add(node)
        return None

    for node in rules:
        cycle = visit(node, [])
        if cycle:
            return cycle
    return None


def _normalize_pipeline(
    errors: _Errors, where: str, job: PipelineJob, plain_jobs: dict[str, dict], pipelines: set
) -> dict:
    if not isinstance(job.elements, (list, tuple)) or not job.elements:
        errors.add(where, "elements", "must be a non-empty list of Element")
        return {"elements": []}
    identifiers = [getattr(element, "identifier", None) for element in job.elements]
    known = {identifier for identifier in identifiers if isinstance(identifier, str)}
    elements, seen, rules = [], set(), {}
    for index, element in enumerate(job.elements):
        if not isinstance(element, Element):
            errors.add(where, f"elements[{index}]", f"must be an Element, got {type(element).__name__}")
            continue
        element_where = f"{where}, element {element.identifier!r}"
        if not _check_identifier(errors, element_where, element.identifier):
            continue
        if element.identifier in seen:
            errors.add(element_where, "identifier", "duplicate element")
        seen.add(element.identifier)
        target = plain_jobs.get(element.job) if isinstance(element.job, str) else None
        if isinstance(element.job, str) and element.job in pipelines:
            errors.add(element_where, "job", f"{element.job!r} is a pipeline job: pipelines do not nest")
            parameters = {}
        elif target is None:
            errors.add(element_where, "job", f"unknown job {element.job!r}")
            parameters = {}
        else:
            parameters = _check_given_parameters(
                errors, element_where, target["parameters"], element.parameters
            )
        element_rules = _normalize_rules(errors, element_where, element.after, known)
        if element.identifier in element_rules:
            errors.add(element_where, "after", "an element cannot depend on itself")
            element_rules.pop(element.identifier)
        rules[element.identifier] = element_rules
        elements.append(
            {
                "identifier": element.identifier,
                "job": element.job,
                "parameters": parameters,
                "after": element_rules,
            }
        )
    cycle = _find_cycle(rules)
    if cycle:
        errors.add(where, "elements", f"dependency cycle {' -> '.join(cycle)}")
    return {"elements": elements}


def _normalize_job(errors: _Errors, where: str, job: Job, resources: set[str],
                   secrets: SecretValues) -> dict:
    job_secrets, disabled_reason, problems = normalize_job_secrets(job.secrets, secrets)
    for field_name, message in problems:
        errors.add(where, field_name, message)
    _check_text(errors, where, job.description, "description")
    _check_text(errors, where, job.display_name, "display_name",
                max_length=MAX_DISPLAY_NAME_LENGTH, one_line=True)
    return {
        "identifier": job.identifier,
        "display_name": job.display_name or job.identifier,
        "description": job.description,
        "steps": _normalize_steps(errors, where, job.steps),
        "parameters": _normalize_parameters(errors, where, job.parameters),
        "properties": _normalize_properties(errors, where, job.properties),
        "pipeline": None,
        "enabled": job.enabled is not False,
        "secrets": job_secrets,
        "disabled_reason": disabled_reason,
        **_bounds(errors, where, job, resources),
        "notifications": normalize_notifications(errors, where, job.notifications),
    }


def _normalize_schedule(errors: _Errors, where: str, schedule: Schedule, jobs: dict) -> dict:
    job = jobs.get(schedule.job) if isinstance(schedule.job, str) else None
    if job is None:
        errors.add(where, "job", f"unknown job {schedule.job!r}")
        parameters = {}
    else:
        parameters = _check_given_parameters(errors, where, job["parameters"], schedule.parameters)
    if (
        not isinstance(schedule.cron, str)
        or len(schedule.cron) > MAX_CRON_LENGTH
        or not croniter.is_valid(schedule.cron)
    ):
        errors.add(where, "cron", f"invalid cron expression {schedule.cron!r}")
    try:
        zoneinfo.ZoneInfo(schedule.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        errors.add(where, "timezone", f"unknown timezone {schedule.timezone!r}")
    return {
        "identifier": schedule.identifier,
        "job": schedule.job,
        "expression": schedule.cron,
        "timezone": schedule.timezone,
        "parameters": parameters,
        "enabled": schedule.enabled is not False,
    }


def _normalize_project(errors: _Errors, project: Project, providers: set[str],
                       resources: set[str], secrets: SecretValues) -> dict:
    where = _describe("project", project.identifier)
    _check_text(errors, where, project.display_name, "display_name",
                max_length=MAX_DISPLAY_NAME_LENGTH, one_line=True)
    _check_text(errors, where, project.description, "description")
    _check_text(errors, where, project.repository, "repository",
                max_length=MAX_REPOSITORY_LENGTH, one_line=True)
    _check_text(errors, where, project.repository_provider, "repository_provider", one_line=True)
    if project.repository and project.repository_provider not in providers:
        errors.add(
            where,
            "repository_provider",
            f"unknown provider {project.repository_provider!r} (use {', '.join(sorted(providers))})",
        )
    jobs: dict[str, dict] = {}
    pipelines: list[tuple[str, PipelineJob]] = []
    if not isinstance(project.jobs, (list, tuple)):
        errors.add(where, "jobs", "must be a list of Job or PipelineJob")
    for index, job in enumerate(project.jobs if isinstance(project.jobs, (list, tuple)) else []):
        if not isinstance(job, (Job, PipelineJob)):
            errors.add(where, f"jobs[{index}]", f"must be a Job or PipelineJob, got {type(job).__name__}")
            continue
        job_where = f"{where}, job {job.identifier!r}"
        if not _check_identifier(errors, job_where, job.identifier):
            continue
        if job.identifier in jobs or job.identifier in dict(pipelines):
            errors.add(job_where, "identifier", "duplicate job")
            continue
        if isinstance(job, PipelineJob):
            pipelines.append((job.identifier, job))
        else:
            jobs[job.identifier] = _normalize_job(errors, job_where, job, resources, secrets)
    plain_jobs = dict(jobs)
    for identifier, job in pipelines:
        job_where = f"{where}, job {identifier!r}"
        _check_text(errors, job_where, job.description, "description")
        _check_text(errors, job_where, job.display_name, "display_name",
                    max_length=MAX_DISPLAY_NAME_LENGTH, one_line=True)
        jobs[identifier] = {
            "identifier": identifier,
            "display_name": job.display_name or identifier,
            "description": job.description,
            "steps": [],
            "parameters": [],
            "properties": {},
            "pipeline": _normalize_pipeline(
                errors, job_where, job, plain_jobs, {name for name, _ in pipelines}
            ),
            "enabled": job.enabled is not False,
            "secrets": {},
            "disabled_reason": "",
            **PIPELINE_BOUNDS,
            **_retention(errors, job_where, job),
            "notifications": normalize_notifications(errors, job_where, job.notifications),
        }
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
        if not _check_identifier(errors, schedule_where, schedule.identifier):
            continue
        if schedule.identifier in schedules:
            errors.add(schedule_where, "identifier", "duplicate schedule")
            continue
        schedules[schedule.identifier] = _normalize_schedule(errors, schedule_where, schedule, jobs)
    return {
        "identifier": project.identifier,
        "display_name": project.display_name or project.identifier,
        "description": project.description,
        "repository": project.repository,
        "repository_provider": project.repository_provider if project.repository else "",
        "jobs": list(jobs.values()),
        "schedules": list(schedules.values()),
        "hooks": normalize_hooks(errors, where, project.hooks, jobs),
        "notifications": normalize_notifications(errors, where, project.notifications),
    }


def validate_configuration(projects: Any, resources: Any = (),
                           secrets: SecretValues | None = None) -> tuple[list[dict], list[dict]]:
    """Plain data for the database from the definitions of projects and resources; raises
    ConfigurationError listing every problem. The secrets jobs declare are read into
    `secrets` (from this process's environment if not given)."""
    errors = _Errors()
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
        where = _describe("project", project.identifier)
        if not _check_identifier(errors, where, project.identifier):
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
