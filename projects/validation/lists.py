"""Lists of definitions that identifiers name (projects, resources, jobs, schedules): each of
the right class, with a valid identifier, once."""

from collections.abc import Callable, Iterator
from typing import Any

from projects.validation.errors import Errors
from projects.validation.fields import valid_identifier


def identified(errors: Errors, where: str, field_name: str, definitions: Any,
               kinds: tuple[type, ...], place: Callable[[Any], str]) -> Iterator[tuple[str, Any]]:
    """Each of `definitions` that is one of `kinds` and has a valid identifier not met before,
    with where it is (`place(identifier)`); every other one is added to the errors."""
    names = " or ".join(kind.__name__ for kind in kinds)
    if not isinstance(definitions, (list, tuple)):
        errors.add(where, field_name, f"must be a list of {names}")
        return
    seen = set()
    for index, definition in enumerate(definitions):
        if not isinstance(definition, kinds):
            errors.add(where, f"{field_name}[{index}]",
                       f"must be a {names}, got {type(definition).__name__}")
            continue
        definition_where = place(definition.identifier)
        if not valid_identifier(errors, definition_where, definition.identifier):
            continue
        if definition.identifier in seen:
            errors.add(definition_where, "identifier", f"duplicate {kinds[0].__name__.lower()}")
            continue
        seen.add(definition.identifier)
        yield definition_where, definition
