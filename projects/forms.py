"""The trigger form of a job, built from the job's parameter declarations."""

from django import forms

from projects.validation.jobs import PRIORITY_RANGE
from runs.parameters import ParameterError, describe_bounds


def is_number(declaration: dict) -> bool:
    """Bounded by `minimum`/`maximum`, or with a number as default."""
    default = declaration.get("default")
    return (
        "minimum" in declaration or "maximum" in declaration
        or (isinstance(default, (int, float)) and not isinstance(default, bool))
    )

# Not a Python identifier, so never the name of a parameter.
PRIORITY_FIELD = "run-priority"


class TriggerForm(forms.Form):
    """One field per declared parameter; values typed like the parameter's default.

    The values are checked by `runs.parameters` when the run is triggered, as the service's
    are: the form only types them.
    """

    def __init__(self, job, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.declarations = {declaration["name"]: declaration for declaration in job.parameters}
        for name, declaration in self.declarations.items():
            default = declaration.get("default")
            help_text = " ".join(
                text for text in (declaration.get("description", ""), describe_bounds(declaration))
                if text
            )
            if isinstance(default, bool):
                field = forms.BooleanField(required=False, initial=default, help_text=help_text)
            else:
                field = forms.CharField(
                    required=bool(declaration.get("required")),
                    initial="" if default is None else str(default),
                    help_text=help_text,
                    strip=False,
                )
            self.fields[name] = field
        self.fields[PRIORITY_FIELD] = forms.IntegerField(
            label="priority", initial=job.priority, required=False,
            min_value=PRIORITY_RANGE[0], max_value=PRIORITY_RANGE[1],
            help_text="higher runs first",
        )

    def priority(self) -> int | None:
        """The priority asked for; None (the job's) when the field is left empty."""
        return self.cleaned_data[PRIORITY_FIELD]

    def parameters(self) -> dict:
        """The parameters to trigger with; empty optional fields fall back to their defaults."""
        parameters = {}
        for name, value in self.cleaned_data.items():
            if name == PRIORITY_FIELD:
                continue
            declaration = self.declarations[name]
            if value == "" and not declaration.get("required"):
                continue
            parameters[name] = self._typed(declaration, value)
        return parameters

    def _typed(self, declaration: dict, value):
        if isinstance(value, bool) or not is_number(declaration):
            return value
        # A whole number stays whole unless the default says decimals.
        kinds = (float,) if isinstance(declaration.get("default"), float) else (int, float)
        for kind in kinds:
            try:
                return kind(value)
            except ValueError:
                pass
        name = declaration["name"]
        raise ParameterError(f"parameters.{name}", f"{name} must be a number")

    def add_parameter_error(self, error: ParameterError) -> None:
        name = error.field.removeprefix("parameters.")
        self.add_error(name if name in self.fields else None, error.message)
