"""Validation of the parameters a run is triggered with, against its job's declarations."""


class ParameterError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def resolve_parameters(declarations: list[dict], given: dict | None) -> dict:
    """The run's parameters: the given ones plus defaults; refuses unknown and missing ones."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ParameterError("parameters", "parameters must be an object")
    declared = {declaration["name"]: declaration for declaration in declarations}
    for name in given:
        if name not in declared:
            raise ParameterError(f"parameters.{name}", f"unknown parameter {name!r}")
    resolved = {}
    for name, declaration in declared.items():
        if name in given:
            value = given[name]
            if not isinstance(value, (str, int, float, bool)):
                raise ParameterError(
                    f"parameters.{name}", f"parameter {name!r} must be a string, number or boolean"
                )
            resolved[name] = value
        elif declaration.get("required"):
            raise ParameterError(f"parameters.{name}", f"missing required parameter {name!r}")
        elif "default" in declaration:
            resolved[name] = declaration["default"]
    return resolved
