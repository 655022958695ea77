"""Checks of single fields shared by every part of a configuration: each adds what is wrong
to the errors and says whether the value can be used. The rules themselves are
`orchestra.values`', the same for every entry."""

from typing import Any

from orchestra.values import InvalidValue, check_identifier, check_text
from projects.validation.errors import Errors

# A day: a longer timeout is no bound at all, and every limit stays far from overflows.
LONGEST_TIMEOUT = 30 * 24 * 3600
# The length of the database columns display names go to (projects.models).
MAX_DISPLAY_NAME_LENGTH = 200


def valid_identifier(errors: Errors, where: str, value: Any) -> bool:
    try:
        check_identifier(value, "identifier")
    except InvalidValue as error:
        errors.invalid(where, error)
        return False
    return True


def valid_text(errors: Errors, where: str, value: Any, field_name: str, **rules) -> bool:
    if not isinstance(value, str):
        errors.add(where, field_name, f"must be a string, got {type(value).__name__}")
        return False
    try:
        check_text(value, field_name, **rules)
    except InvalidValue as error:
        errors.invalid(where, error)
        return False
    return True


def check_description_and_display_name(errors: Errors, where: str, definition: Any) -> None:
    """A job's description and its display name (one line, as long as its column allows)."""
    valid_text(errors, where, definition.description, "description")
    valid_text(errors, where, definition.display_name, "display_name",
               max_length=MAX_DISPLAY_NAME_LENGTH, one_line=True)


def checked_seconds(errors: Errors, where: str, value: Any, field_name: str) -> float | None:
    """A positive number of seconds (None: no limit)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= LONGEST_TIMEOUT:
        errors.add(where, field_name, f"must be a number of seconds above 0, at most {LONGEST_TIMEOUT}")
        return None
    return value


def checked_whole(errors: Errors, where: str, value: Any, field_name: str, low: int, high: int,
                  allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.add(where, field_name, f"must be a whole number from {low} to {high}")
        return None if allow_none else low
    return value
