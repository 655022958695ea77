"""Configuration problems: collected with where each is, then raised together.

Every problem names where it is (project, job, schedule or element) and which field, so one
start-up failure lists everything to fix.
"""

from typing import Any

from orchestra.values import InvalidValue, shown


class ConfigurationError(Exception):
    """The configuration cannot be used; `errors` lists every problem found, one per line."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("invalid configuration:\n  " + "\n  ".join(self.errors))


class Errors:
    """The problems found so far, one message each."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, where: str, field_name: str, message: str) -> None:
        self.messages.append(f"{where}, field {field_name!r}: {message}")

    def invalid(self, where: str, error: InvalidValue) -> None:
        self.add(where, error.field, error.message)


def describe(kind: str, value: Any) -> str:
    """Where a problem is: `project 'name'`, shown safely whatever the value."""
    return f"{kind} {shown(value)}"
