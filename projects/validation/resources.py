"""Resources: what jobs share with a capacity (docs/configuration.md, "Resources")."""

from functools import partial
from typing import Any

from projects.definitions import Resource
from projects.validation.errors import Errors, describe
from projects.validation.fields import checked_whole
from projects.validation.lists import identified


def validate_resources(errors: Errors, resources: Any) -> list[dict]:
    return [
        {"identifier": resource.identifier,
         "capacity": checked_whole(errors, where, resource.capacity, "capacity", 1, 10**6)}
        for where, resource in identified(
            errors, "configuration", "resources", resources, (Resource,), partial(describe, "resource")
        )
    ]
