"""The filters and sort orders of the run list, shared by the website and the service.

Besides the declared filters, every `results__<key>=<value>` parameter keeps the runs whose
results hold that value under that key (`results__a__b` for nested objects). The value is
compared as JSON when it parses as a JSON number or boolean, and as a string either way, so
`results__answer=42` finds the number 42 and the string "42".
"""

import json

import django_filters
from django.db.models import Q
from django.db.models.fields.json import KeyTransform

from runs.models import Run, Status

RESULTS_PREFIX = "results__"


def results_condition(path: str, raw: str) -> Q:
    """The condition "results at this key path equal this query-string value"."""
    transform = "results"
    for key in path.split("__"):
        transform = KeyTransform(key, transform)
    candidates = [raw]
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if isinstance(parsed, (bool, int, float)):
        candidates.append(parsed)
    condition = Q()
    for candidate in candidates:
        condition |= Q(_results_value=candidate)
    return transform, condition


class RunFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__identifier")
    job = django_filters.CharFilter(field_name="job__identifier")
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    worker = django_filters.CharFilter(field_name="worker__identifier")
    source = django_filters.ChoiceFilter(choices=Run.Source.choices)
    schedule = django_filters.CharFilter(field_name="schedule__identifier")
    parent = django_filters.CharFilter(field_name="parent__identifier")
    triggered_by = django_filters.CharFilter(field_name="triggered_by__username")
    created_after = django_filters.DateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = django_filters.DateTimeFilter(field_name="created", lookup_expr="lt")
    ordering = django_filters.OrderingFilter(
        fields=[
            ("identifier", "identifier"),
            ("project__identifier", "project"),
            ("job__identifier", "job"),
            ("status", "status"),
            ("worker__identifier", "worker"),
            ("source", "source"),
            ("triggered_by__username", "triggered_by"),
            ("created", "created"),
            ("started", "started"),
            ("completed", "completed"),
            ("last_update", "last_update"),
        ]
    )

    class Meta:
        model = Run
        fields = ["project", "job", "status", "worker", "source"]

    def results_filters(self) -> list[tuple[str, str]]:
        """The `results__*` query parameters, as (key path, value) pairs."""
        pairs = []
        for name in self.data.keys() if self.data else ():
            path = name[len(RESULTS_PREFIX):]
            if not name.startswith(RESULTS_PREFIX) or not path or "" in path.split("__"):
                continue
            for value in self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data[name]]:
                pairs.append((path, value))
        return pairs

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        for path, value in self.results_filters():
            transform, condition = results_condition(path, value)
            queryset = queryset.alias(_results_value=transform).filter(condition)
        return queryset
