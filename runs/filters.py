"""The one FilterSet of the runs list, used by the website and the service alike.

Results are filtered in two ways: `result=name=value` (one field, for the website's form) and
any number of `results__<name>=<value>` query parameters (for scripts; `results__a__b` looks
inside nested objects). Either way the value matches the string and, when it parses as a JSON
number or boolean, that JSON value too, so `answer=42` finds both 42 and "42".
"""

import json

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db import connections
from django.db.models import F, Q
from django.db.models.fields.json import KeyTransform
from django_filters.constants import EMPTY_VALUES

from runs.models import Run, Status

RESULTS_PREFIX = "results__"


def filter_by_result(queryset, path: str, raw: str, alias: str):
    """Keep the runs whose results hold the query-string value `raw` at this key path.

    KeyTransform names keys explicitly, so a key called like a lookup ("contains") is a key.
    On PostgreSQL the same test is a containment (`results @> {"key": value}`), which the GIN
    index of migration runs/0004 answers instead of reading every run's results. A key that
    parses as a number may index an array, which containment cannot say: those compare keys.
    """
    keys = path.split("__")
    values = [raw]
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = None
    if isinstance(decoded, (bool, int, float)):
        values.append(decoded)
    if connections[queryset.db].vendor == "postgresql" and not any(map(_is_integer, keys)):
        condition = Q()
        for value in values:
            contained = value
            for key in reversed(keys):
                contained = {key: contained}
            condition |= Q(results__contains=contained)
        return queryset.filter(condition)
    transform = "results"
    for key in keys:
        transform = KeyTransform(key, transform)
    condition = Q()
    for value in values:
        condition |= Q(**{alias: value})
    return queryset.alias(**{alias: transform}).filter(condition)


def _is_integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


class RunOrderingFilter(django_filters.OrderingFilter):
    """Runs sort the same way on every database, and ties always fall in one order.

    Runs not yet started or completed, or without a worker, sort as the earliest. SQLite and
    MariaDB order NULL that way themselves; PostgreSQL is told (its own order puts NULL last),
    and its started and completed indexes are built NULLS FIRST (runs/0006), so that "most
    recently completed first" does not first walk past every active run.

    Ties (same status, same worker, not completed yet...) fall in the order the runs were
    made, in the sort's direction: pages are cut by offset, and PostgreSQL left ties in
    whatever order its plan met them, so a page repeated runs of the one before while others
    never showed. Each sort goes on by what its index holds after the sorted column, so the
    index is still read in order: (status, created), (source, created), (project, created)
    and (job, created) by creation time; (started), (completed) and (job, worker, id) by row
    id. What this costs: a join keeps only its outer table's order on PostgreSQL, so a sort
    by project or job sorts the first project's or job's runs (100,000 runs in 4 projects:
    1 -> 80 ms for the unfiltered list sorted by project), and the active runs are sorted
    by id when sorted by started or completed ascending (10,000: 0.5 -> 8 ms).
    """

    NULLABLE = ("started", "completed", "worker__identifier")
    UNIQUE = ("identifier", "id", "pk")
    TIE_BREAKERS = {
        "status": ("created", "id"),
        "source": ("created", "id"),
        "project__identifier": ("created", "id"),
        "job__identifier": ("created", "id"),
    }

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value in EMPTY_VALUES:
            return qs
        ordering = list(qs.query.order_by)
        names = [name.lstrip("-") for name in ordering]
        if not any(name in self.UNIQUE for name in names):
            direction = "-" if ordering[-1].startswith("-") else ""
            tie_breakers = self.TIE_BREAKERS.get(names[-1], ("id",))
            ordering += [direction + name for name in tie_breakers if name not in names]
        if connections[qs.db].vendor == "postgresql":
            ordering = [self.nulls_first(name) for name in ordering]
        return qs.order_by(*ordering)

    def nulls_first(self, name: str):
        field = name.lstrip("-")
        if field not in self.NULLABLE:
            return name
        if name.startswith("-"):
            return F(field).desc(nulls_last=True)
        return F(field).asc(nulls_first=True)


class RunFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__identifier")
    job = django_filters.CharFilter(field_name="job__identifier")
    # One status column per run: no join, so no DISTINCT (which would slow every list).
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, distinct=False, widget=forms.SelectMultiple(attrs={"size": 3})
    )
    worker = django_filters.CharFilter(field_name="worker__identifier")
    source = django_filters.ChoiceFilter(choices=Run.Source.choices)
    parent = django_filters.CharFilter(field_name="parent__identifier")
    # A run's retries (`retry_of=<its identifier>`), or the runs of a given attempt (1: first
    # attempts only; 2 and more: retries).
    retry_of = django_filters.CharFilter(field_name="retry_of__identifier")
    attempt = django_filters.NumberFilter(min_value=1)
    # Query string `created_after` and `created_before` (dates, both inclusive).
    created = django_filters.DateFromToRangeFilter(
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    )
    result = django_filters.CharFilter(
        method="filter_result",
        label="Result (name=value)",
        validators=[RegexValidator(r"^[^=]{1,100}=", "Expected a result as name=value.")],
    )
    ordering = RunOrderingFilter(
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
            ("last_update", "last_update"),
        )
    )

    class Meta:
        model = Run
        fields = ["project", "job", "status", "worker", "source", "created", "result", "attempt"]

    def filter_result(self, queryset, name, value: str):
        key, _, expected = value.partition("=")
        return filter_by_result(queryset, key, expected, "result_value")

    def results_parameters(self) -> list[tuple[str, str]]:
        """The `results__*` query parameters as (key path, value) pairs."""
        pairs = []
        for name in list(self.data.keys()) if self.data else ():
            path = name[len(RESULTS_PREFIX):]
            if not name.startswith(RESULTS_PREFIX) or "" in path.split("__"):
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data[name]]
            pairs.extend((path, value) for value in values)
        return pairs

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        for number, (path, value) in enumerate(self.results_parameters()):
            queryset = filter_by_result(queryset, path, value, f"results_value_{number}")
        return queryset
