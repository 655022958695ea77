"""The trigger form of a job, built from the job's parameter declarations."""

from django import forms

from projects.validation import PRIORITY_RANGE
from runs.parameters import ParameterError

# Not a Python identifier, so never the name of a parameter.
PRIORITY_FIELD = "run-priority"


class TriggerForm(forms.Form):
    """One field per declared parameter; values typed like the parameter's default."""

    def __init__(self, job, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.declarations = {declaration["name"]: declaration for declaration in job.parameters}
        for name, declaration in self.declarations.items():
            default = declaration.get("default")
            help_text = declaration.get("description", "")
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
            default = self.declarations[name].get("default")
            if value == "" and not self.declarations[name].get("required"):
                continue
            parameters[name] = self._typed(name, value, default)
        return parameters

    def _typed(self, name: str, value, default):
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            return value
        try:
            return int(value) if isinstance(default, int) else float(value)
        except ValueError:
            raise ParameterError(f"parameters.{name}", f"{name} must be a number")

    def add_parameter_error(self, error: ParameterError) -> None:
        name = error.field.removeprefix("parameters.")
        self.add_error(name if name in self.fields else None, error.message)
