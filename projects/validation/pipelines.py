"""A pipeline job: its elements (each a run of a plain job of the same project) and the
statuses each waits for in the elements it comes after, without cycles."""

from typing import Any

from projects.definitions import Element, PipelineJob
from projects.notifications import normalize_notifications
from projects.validation.errors import Errors
from projects.validation.fields import check_description_and_display_name, valid_identifier
from projects.validation.jobs import DEFAULT_RETRY_ON, retention
from projects.validation.parameters import check_given_parameters
from runs.models import FINAL_STATUSES

ANY_STATUS = "any"
# A pipeline's own run holds no worker: its elements are bounded by their own jobs.
PIPELINE_BOUNDS = {
    "timeout": None, "silence_timeout": None, "retries": 0, "retry_on": DEFAULT_RETRY_ON,
    "retry_delay": 0, "max_concurrent_runs": 0, "resources": [], "priority": 0,
}


def final_statuses() -> tuple[str, ...]:
    return tuple(str(status) for status in FINAL_STATUSES)


def normalize_pipeline_job(errors: Errors, where: str, job: PipelineJob,
                           plain_jobs: dict[str, dict], pipelines: set[str]) -> dict:
    """A pipeline job as the database keeps jobs; `plain_jobs` are the project's other jobs,
    already normalized, and `pipelines` the identifiers of its pipeline jobs."""
    check_description_and_display_name(errors, where, job)
    return {
        "identifier": job.identifier,
        "display_name": job.display_name or job.identifier,
        "description": job.description,
        "steps": [],
        "parameters": [],
        "properties": {},
        "pipeline": _normalize_pipeline(errors, where, job, plain_jobs, pipelines),
        "enabled": job.enabled is not False,
        "secrets": {},
        "disabled_reason": "",
        **PIPELINE_BOUNDS,
        **retention(errors, where, job),
        "notifications": normalize_notifications(errors, where, job.notifications),
    }


def _normalize_pipeline(
    errors: Errors, where: str, job: PipelineJob, plain_jobs: dict[str, dict], pipelines: set[str]
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
        if not valid_identifier(errors, element_where, element.identifier):
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
            parameters = check_given_parameters(
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


def _normalize_rules(errors: Errors, where: str, after: Any, elements: set[str]) -> dict:
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
