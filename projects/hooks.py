"""Hooks in the configuration: which jobs a signed delivery triggers, and which fields of its
JSON payload become their parameters (docs/configuration.md, "Hooks").

A payload path is keys and list indexes joined by dots: `ref`, `head_commit.id`,
`commits.0.id`. Each segment is letters, digits, `_` and `-`; a segment of digits indexes a
list (and names a key in an object). Nothing else is evaluated: a path can only read a field.
"""

import re
from typing import Any, Protocol

from orchestra.values import IDENTIFIER, IDENTIFIER_RULE, InvalidValue, check_environment_name, shown
from projects.definitions import Hook

PAYLOAD_PATH = re.compile(r"[A-Za-z0-9_-]{1,100}(?:\.[A-Za-z0-9_-]{1,100}){0,19}")
PAYLOAD_PATH_RULE = (
    "1 to 20 keys or list indexes joined by dots, each 1 to 100 letters, digits, '_' or '-'"
)
# A variable name every shell can set.
MAX_HOOK_JOBS = 20


class Errors(Protocol):
    def add(self, where: str, field_name: str, message: str) -> None: ...


class PayloadFieldMissing(ValueError):
    """The payload has no field at a path a hook takes a parameter from."""

    def __init__(self, job: str, parameter: str, path: str):
        self.field = f"payload.{path}"
        self.message = (
            f"the payload has no field {path!r} (parameter {parameter!r} of job {job!r})"
        )
        super().__init__(self.message)


def payload_field(payload: Any, path: str) -> Any:
    """The value at `path` in `payload`; raises KeyError when there is none."""
    value = payload
    for segment in path.split("."):
        if isinstance(value, dict) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            raise KeyError(path)
    return value


def parameters_from_payload(jobs: dict[str, dict[str, str]], payload: Any) -> dict[str, dict]:
    """{job: parameters} of a hook's `jobs` for one payload, the values as the payload holds
    them (the trigger checks them against the job's declarations); raises PayloadFieldMissing."""
    parameters = {}
    for job, paths in jobs.items():
        parameters[job] = {}
        for name, path in paths.items():
            try:
                parameters[job][name] = payload_field(payload, path)
            except KeyError:
                raise PayloadFieldMissing(job, name, path) from None
    return parameters


def normalize_hooks(errors: Errors, where: str, hooks: Any, jobs: dict[str, dict]) -> list[dict]:
    """Plain data for the database from a project's `hooks`, checked against its validated
    `jobs`; every problem goes to `errors` naming the hook and the field."""
    if not isinstance(hooks, (list, tuple)):
        errors.add(where, "hooks", "must be a list of Hook")
        return []
    normalized: dict[str, dict] = {}
    for index, hook in enumerate(hooks):
        if not isinstance(hook, Hook):
            errors.add(where, f"hooks[{index}]", f"must be a Hook, got {type(hook).__name__}")
            continue
        hook_where = f"{where}, hook {shown(hook.identifier)}"
        if not isinstance(hook.identifier, str) or not IDENTIFIER.fullmatch(hook.identifier):
            errors.add(hook_where, "identifier", f"not an identifier ({IDENTIFIER_RULE})")
            continue
        if hook.identifier in normalized:
            errors.add(hook_where, "identifier", "duplicate hook")
            continue
        try:
            check_environment_name(hook.secret_variable, "secret_variable")
        except InvalidValue as error:
            errors.add(hook_where, error.field, error.message)
        normalized[hook.identifier] = {
            "identifier": hook.identifier,
            "secret_variable": hook.secret_variable,
            "jobs": _normalize_jobs(errors, hook_where, hook.jobs, jobs),
        }
    return list(normalized.values())


def _normalize_jobs(errors: Errors, where: str, given: Any, jobs: dict[str, dict]) -> dict:
    if not isinstance(given, dict) or not given:
        errors.add(where, "jobs", "must be a dict {job: {parameter: payload path}} naming a job")
        return {}
    if len(given) > MAX_HOOK_JOBS:
        errors.add(where, "jobs", f"at most {MAX_HOOK_JOBS} jobs")
    normalized = {}
    for job, paths in given.items():
        field_name = f"jobs.{job}"
        if job not in jobs:
            errors.add(where, "jobs", f"unknown job {shown(job)}")
            continue
        if not isinstance(paths, dict):
            errors.add(where, field_name, "must be a dict {parameter: payload path}")
            continue
        declared = {declaration["name"]: declaration for declaration in jobs[job]["parameters"]}
        for name, path in paths.items():
            if name not in declared:
                errors.add(where, field_name, f"unknown parameter {shown(name)}")
            elif not isinstance(path, str) or not PAYLOAD_PATH.fullmatch(path):
                errors.add(where, f"{field_name}.{name}",
                           f"{shown(path)} is not a payload path ({PAYLOAD_PATH_RULE})")
        for name, declaration in declared.items():
            if declaration["required"] and name not in paths:
                errors.add(where, field_name,
                           f"the job's required parameter {name!r} is not taken from the payload")
        normalized[job] = dict(paths)
    return normalized
