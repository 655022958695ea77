"""The one FilterSet of the runs list, used by the website and the service alike."""

import json

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q

from runs.models import Run, Status


class RunFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__identifier")
    job = django_filters.CharFilter(field_name="job__identifier")
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, widget=forms.SelectMultiple(attrs={"size": 3})
    )
    worker = django_filters.CharFilter(field_name="worker__identifier")
    source = django_filters.ChoiceFilter(choices=Run.Source.choices)
    # Query string `created_after` and `created_before` (dates, both inclusive).
    created = django_filters.DateFromToRangeFilter(
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    )
    result = django_filters.CharFilter(
        method="filter_result",
        label="Result (name=value)",
        validators=[
            RegexValidator(r"^(?!\w*__)[A-Za-z0-9_-]{1,100}=", "Expected a result as name=value.")
        ],
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("identifier", "identifier"),
            ("project__identifier", "project"),
            ("job__identifier", "job"),
            ("status", "status"),
            ("worker__identifier", "worker"),
            ("source", "source"),
            ("created", "created"),
            ("started", "started"),
            ("completed", "completed"),
        )
    )

    class Meta:
        model = Run
        fields = ["project", "job", "status", "worker", "source", "created", "result"]

    def filter_result(self, queryset, name, value: str):
        """`answer=42`: runs whose result `answer` is the string "42" or the JSON value 42."""
        # The validator refuses `__` in the name, so it can only name a key, never a lookup.
        key, _, expected = value.partition("=")
        condition = Q(**{f"results__{key}": expected})
        try:
            decoded = json.loads(expected)
        except ValueError:
            decoded = None
        if decoded is not None and not isinstance(decoded, (dict, list, str)):
            condition |= Q(**{f"results__{key}": decoded})
        return queryset.filter(condition)
