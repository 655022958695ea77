"""A job's steps: their names, their commands (format strings over the parameters) and
their timeouts, bounded so that a run request stays one WebSocket message."""

import string
from typing import Any

from orchestra.values import encoded_size
from projects.definitions import Job, Step
from projects.validation.errors import Errors
from projects.validation.fields import checked_seconds, valid_text

# A job's steps, as JSON the way the worker receives them: with the parameters
# (runs.parameters), a run request stays well under the 1 MiB of a WebSocket message.
MAX_STEPS = 200
MAX_STEPS_BYTES = 256 * 1024
# The length of the database column step names go to (runs.models).
MAX_STEP_NAME_LENGTH = 200


def normalize_steps(errors: Errors, where: str, steps: Any) -> list[dict]:
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
            valid_text(errors, where, step.name, f"{name}.name",
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
            if valid_text(errors, where, argument, f"{name}.command[{index}]"):
                _check_format_string(errors, where, argument, f"{name}.command")
        normalized.append({
            "name": step.name,
            "command": list(command),
            **timeouts(errors, where, step, prefix=f"{name}."),
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


def timeouts(errors: Errors, where: str, definition: Step | Job, prefix: str = "") -> dict:
    """The timeouts a step or a job declares, only those set (steps' JSON stays small)."""
    declared = {}
    for name in ("timeout", "silence_timeout"):
        seconds = checked_seconds(errors, where, getattr(definition, name, None), f"{prefix}{name}")
        if seconds is not None:
            declared[name] = seconds
    return declared


def _check_format_string(errors: Errors, where: str, value: str, field_name: str) -> None:
    try:
        list(string.Formatter().parse(value))
    except ValueError as error:
        errors.add(where, field_name, f"invalid format string {value!r}: {error}")
