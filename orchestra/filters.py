"""What every list's FilterSet shares (website and service), and the filters and sort orders
of the user and audit lists."""

from functools import lru_cache

import django_filters
from django import forms
from django.contrib.auth.models import User
from django_filters.fields import BaseCSVField
from django_filters.rest_framework import DjangoFilterBackend

from orchestra.models import AuditEvent


def is_blank(value: str) -> bool:
    return not value.strip()


class QueryForm(forms.Form):
    """A list's query string, checked whole. Beside each filter's own check, a parameter no
    filter takes, a value left blank and a parameter given twice that takes one value are
    errors, keyed by the parameter's name: ignoring them answered a list the caller did not
    ask for (`stauts=failed` listed every run).

    `accepted` names what the list takes beside its filters (its page and page size), which
    are checked where they are read.
    """

    accepted: tuple[str, ...] = ()

    def parameters(self) -> dict[str, str]:
        """Each query parameter the form takes, and the field that reads it."""
        taken = {name: "" for name in self.accepted}
        for name, field in self.fields.items():
            suffixes = getattr(field.widget, "suffixes", None)
            if suffixes:  # a range: `created` reads `created_after` and `created_before`
                taken.update({field.widget.suffixed(name, suffix): name for suffix in suffixes})
            else:
                taken[name] = name
        return taken

    def clean(self) -> dict:
        cleaned = super().clean()
        taken = self.parameters()
        for parameter, field in taken.items():
            if field and field != parameter and field in self._errors and parameter in self.data:
                self._errors[parameter] = self._errors.pop(field)
        for parameter in self.data:
            values = self.data.getlist(parameter)
            field = self.fields.get(taken.get(parameter, ""))
            if isinstance(field, BaseCSVField):  # `ordering=a,b`: each item is a value
                values = [item for value in values for item in value.split(",")]
            if parameter not in taken:
                message = f"unknown parameter; this list takes {', '.join(sorted(taken))}"
            elif any(map(is_blank, values)):
                message = "must not be empty, nor hold an empty item (leave the parameter out instead)"
            elif len(self.data.getlist(parameter)) > 1 and not isinstance(field, forms.MultipleChoiceField):
                message = "takes one value: give it once"
            else:
                continue
            self._errors[parameter] = self.error_class([message])
        return cleaned


class TrueOrFalse(forms.TypedChoiceField):
    """A boolean filter's field: `true` or `false`, where Django's NullBooleanField read any
    other value as "no filter"; empty (the website form's "any") is no filter."""

    def __init__(self, *, label=None, **kwargs):
        super().__init__(
            choices=[("", "any"), ("true", "yes"), ("false", "no")], coerce=lambda value: value == "true",
            empty_value=None, required=False, label=label,
        )


def strict(field: forms.Field) -> forms.Field:
    if isinstance(field, forms.NullBooleanField):
        return TrueOrFalse(label=field.label)
    return field


class QueryChecks:
    """Mixed into a FilterSet by `checked`: its form is a QueryForm."""

    def __init__(self, data=None, queryset=None, *, accepted=(), **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.accepted = tuple(accepted)

    def get_form_class(self) -> type[QueryForm]:
        fields = {name: strict(filter_.field) for name, filter_ in self.filters.items()}
        return type(f"{type(self).__name__}Form", (QueryForm,), {**fields, "accepted": self.accepted})


@lru_cache
def checked(filterset_class: type[django_filters.FilterSet]) -> type[django_filters.FilterSet]:
    """The FilterSet class whose form checks the whole query string (QueryForm): what every
    list, website or service, filters with, so no FilterSet can forget it."""
    return type(filterset_class.__name__, (QueryChecks, filterset_class), {})


class ServiceFilterBackend(DjangoFilterBackend):
    """Checks the query string of every service list, its page parameters accepted; a list
    without filters takes nothing else."""

    def get_filterset_class(self, view, queryset=None) -> type[django_filters.FilterSet]:
        return checked(super().get_filterset_class(view, queryset) or django_filters.FilterSet)

    def get_filterset_kwargs(self, request, queryset, view) -> dict:
        paginator = view.paginator
        accepted = [paginator.page_query_param, paginator.page_size_query_param] if paginator else []
        return {**super().get_filterset_kwargs(request, queryset, view), "accepted": accepted}


class UserFilter(django_filters.FilterSet):
    username = django_filters.CharFilter(lookup_expr="icontains")
    role = django_filters.CharFilter(field_name="groups__name")
    is_active = django_filters.BooleanFilter()
    ordering = django_filters.OrderingFilter(
        fields=[
            ("username", "username"),
            ("first_name", "first_name"),
            ("last_name", "last_name"),
            ("email", "email"),
            ("is_active", "is_active"),
            ("date_joined", "date_joined"),
            ("last_login", "last_login"),
        ]
    )

    class Meta:
        model = User
        fields = ["username", "role", "is_active"]


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_name")
    action = django_filters.CharFilter(lookup_expr="startswith")
    target = django_filters.CharFilter(lookup_expr="icontains")
    address = django_filters.CharFilter()
    created_after = django_filters.DateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = django_filters.DateTimeFilter(field_name="created", lookup_expr="lt")
    ordering = django_filters.OrderingFilter(
        fields=[
            ("created", "created"),
            ("actor_name", "actor"),
            ("action", "action"),
            ("target", "target"),
            ("address", "address"),
        ]
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "target", "address"]
