"""Validation of the parameters a run is triggered with, against its job's declarations.

`resolve_parameters` is the one check every trigger goes through (`runs.actions.do_trigger_run`:
the service, the website, schedules, pipelines) and the configuration uses for the parameters
of schedules and pipeline elements, and `check_parameter_value` for defaults.
"""

from orchestra.values import PARAMETER_NAME, InvalidValue, check_scalar, encoded_size

# Sizes of parameters as JSON the way the worker receives them (docs/configuration.md): with
# the steps (bounded by the configuration), a run request stays well under the 1 MiB a
# WebSocket message may hold.
MAX_PARAMETER_BYTES = 64 * 1024
MAX_PARAMETERS_BYTES = 256 * 1024


class ParameterError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def check_parameter_value(declaration: dict, value: object) -> str | int | float | bool:
    """`value` as the parameter `declaration` takes it; raises ParameterError."""
    name = declaration["name"]
    field = f"parameters.{name}"
    try:
        check_scalar(value, field)
    except InvalidValue as error:
        raise ParameterError(field, f"parameter {name!r} {error.message}")
    size = encoded_size(value)
    if size > MAX_PARAMETER_BYTES:
        raise ParameterError(
            field, f"parameter {name!r} is {size} bytes as JSON, more than the "
            f"{MAX_PARAMETER_BYTES} allowed",
        )
    minimum, maximum = declaration.get("minimum"), declaration.get("maximum")
    if minimum is not None or maximum is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(
                field, f"parameter {name!r} must be a number ({_range(minimum, maximum)})"
            )
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ParameterError(field, f"parameter {name!r} must be {_range(minimum, maximum)}")
    max_length = declaration.get("max_length")
    if max_length is not None:
        if not isinstance(value, str):
            raise ParameterError(field, f"parameter {name!r} must be text")
        if len(value) > max_length:
            raise ParameterError(
                field, f"parameter {name!r} must be at most {max_length} characters"
            )
    return value


def describe_bounds(declaration: dict) -> str:
    """The declared bounds in words, for the trigger form ("" without any)."""
    minimum, maximum = declaration.get("minimum"), declaration.get("maximum")
    if minimum is not None or maximum is not None:
        return f"A number, {_range(minimum, maximum)}."
    if declaration.get("max_length") is not None:
        return f"At most {declaration['max_length']} characters."
    return ""


def _range(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"from {minimum} to {maximum}"
    if minimum is not None:
        return f"at least {minimum}"
    return f"at most {maximum}"


def resolve_parameters(declarations: list[dict], given: dict | None) -> dict:
    """The run's parameters: the given ones plus defaults; refuses unknown and missing ones,
    values that cannot be stored and shown back, and values beyond their size or bounds."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ParameterError("parameters", "parameters must be an object")
    declared = {declaration["name"]: declaration for declaration in declarations}
    for name in given:
        if name in declared:
            continue
        # The name goes back in the answer only if it is one a declaration could have: any
        # other (a lone surrogate, a megabyte) could break the answer itself.
        if isinstance(name, str) and PARAMETER_NAME.fullmatch(name):
            raise ParameterError(f"parameters.{name}", f"unknown parameter {name!r}")
        raise ParameterError(
            "parameters", "unknown parameter, whose name is not even a parameter name"
        )
    resolved = {}
    for name, declaration in declared.items():
        if name in given:
            resolved[name] = check_parameter_value(declaration, given[name])
        elif declaration.get("required"):
            raise ParameterError(f"parameters.{name}", f"missing required parameter {name!r}")
        elif "default" in declaration:
            resolved[name] = declaration["default"]
    size = encoded_size(resolved)
    if size > MAX_PARAMETERS_BYTES:
        raise ParameterError(
            "parameters", f"the parameters are {size} bytes as JSON, more than the "
            f"{MAX_PARAMETERS_BYTES} allowed together",
        )
    return resolved
