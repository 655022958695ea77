"""A job's parameters: their declarations (names, bounds, defaults), the parameters a
schedule or a pipeline element gives a job, and a job's worker properties. Values are
checked with the rules the service and the website use (`runs.parameters`)."""

from typing import Any

from orchestra.values import (
    PARAMETER_NAME,
    InvalidValue,
    check_properties,
    check_scalar,
    encoded_size,
    shown,
)
from projects.definitions import Parameter
from projects.validation.errors import Errors
from projects.validation.fields import valid_text
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


def normalize_parameters(errors: Errors, where: str, parameters: Any) -> list[dict]:
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
        valid_text(errors, where, parameter.description, f"{name}.description")
        if not isinstance(parameter.required, bool):
            errors.add(where, f"{name}.required", "must be True or False")
        declaration = {
            "name": parameter.name,
            "description": parameter.description,
            "required": bool(parameter.required),
            **_bounds(errors, where, parameter, name),
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


def _bounds(errors: Errors, where: str, parameter: Parameter, name: str) -> dict:
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


def check_given_parameters(errors: Errors, where: str, declarations: list[dict], given: Any) -> dict:
    """The parameters a schedule or a pipeline element gives a job, checked against the job's
    declarations."""
    if not isinstance(given, dict):
        errors.add(where, "parameters", "must be a dict")
        return {}
    try:
        resolve_parameters(declarations, given)
    except ParameterError as error:
        errors.add(where, error.field, error.message)
    return dict(given)


def normalize_properties(errors: Errors, where: str, properties: Any) -> dict:
    try:
        return dict(check_properties(properties, "properties"))
    except InvalidValue as error:
        errors.invalid(where, error)
        return {}
