"""Resources: what jobs share with a capacity (docs/configuration.md, "Resources")."""

from typing import Any

from projects.definitions import Resource
from projects.validation.errors import Errors, describe
from projects.validation.fields import checked_whole, valid_identifier


def validate_resources(errors: Errors, resources: Any) -> list[dict]:
    if not isinstance(resources, (list, tuple)):
        errors.add("configuration", "resources", "must be a list of Resource")
        return []
    normalized: dict[str, dict] = {}
    for index, resource in enumerate(resources):
        if not isinstance(resource, Resource):
            errors.add("configuration", f"resources[{index}]", f"must be a Resource, got {type(resource).__name__}")
            continue
        where = describe("resource", resource.identifier)
        if not valid_identifier(errors, where, resource.identifier):
            continue
        if resource.identifier in normalized:
            errors.add(where, "identifier", "duplicate resource")
            continue
        capacity = checked_whole(errors, where, resource.capacity, "capacity", 1, 10**6)
        normalized[resource.identifier] = {"identifier": resource.identifier, "capacity": capacity}
    return list(normalized.values())
