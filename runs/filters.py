"""The one FilterSet of the runs list, used by the website and the service alike.

Results are filtered in two ways: `result=name=value` (one field, for the website's form) and
any number of `results__<name>=<value>` query parameters (for scripts; `results__a__b` looks
inside nested objects). Either way the value matches the string and, when it reads as a JSON
number or boolean, that JSON value too, so `answer=42` finds both 42 and "42".
"""

import json
import math
import re

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db import connections
from django.db.models import F, Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django_filters.constants import EMPTY_VALUES

from runs.models import Run, Status

RESULTS_PREFIX = "results__"
JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def result_keys(path: str) -> list[str]:
    """The keys of a result's path (`a__b`: key b inside key a); ValidationError for a path
    no result can have (an empty key; a NUL, which PostgreSQL's JSON cannot hold)."""
    keys = path.split("__")
    if "" in keys:
        raise forms.ValidationError("a result key cannot be empty (results__<key>[__<key>...])")
    if "\x00" in path:
        raise forms.ValidationError("a result key cannot hold a NUL character")
    return keys


def result_values(raw: str) -> list:
    """What the query-string value `raw` matches: itself as text and, when it reads as one, the
    JSON number or boolean. ValidationError for a number JSON cannot hold (NaN, Infinity,
    1e400): no stored result equals one, and the databases refused the comparison (a 500).

    Only numbers and booleans are decoded, so no value is parsed as deeply nested JSON.
    """
    if raw in ("true", "false"):
        return [raw, raw == "true"]
    if raw.lstrip("-") in ("NaN", "Infinity"):
        raise forms.ValidationError(f"{raw} is no JSON number: no result can equal it")
    if not JSON_NUMBER.fullmatch(raw):
        return [raw]
    try:
        number = json.loads(raw)
    except ValueError:  # more digits than Python reads: as text only, as no result holds it
        return [raw]
    if isinstance(number, float) and not math.isfinite(number):
        raise forms.ValidationError(f"{raw} is beyond what a JSON number holds: no result can equal it")
    return [raw, number]


def filter_by_result(queryset, path: str, raw: str, alias: str):
    """Keep the runs whose results hold the query-string value `raw` at this key path (both
    checked by the filter's field: `result_keys`, `result_values`).

    KeyTransform names keys explicitly, so a key called like a lookup ("contains") is a key.
    On PostgreSQL the same test is a containment (`results @> {"key": value}`), which the GIN
    index of migration runs/0004 answers instead of reading every run's results. A key that
    parses as a number may index an array, which containment cannot say: those compare keys.
    """
    keys = result_keys(path)
    values = result_values(raw)
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


def check_result(text: str) -> None:
    """A `result` field's name=value, as the website's form sends it."""
    key, _, value = text.partition("=")
    result_keys(key)
    result_values(value)


class ResultFilter(django_filters.CharFilter):
    """One `results__<key path>=<value>` parameter; its field checks the path and the value."""

    def __init__(self, path: str, alias: str):
        super().__init__(label=f"Result {path}", strip=False, validators=[self.check])
        self.path = path
        self.alias = alias

    def check(self, value: str) -> None:
        result_keys(self.path)
        result_values(value)

    def filter(self, queryset, value: str) -> QuerySet:
        if value in EMPTY_VALUES:
            return queryset
        return filter_by_result(queryset, self.path, value, self.alias)


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
        strip=False,
        validators=[RegexValidator(r"^[^=]{1,100}=", "Expected a result as name=value."), check_result],
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

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        # Each `results__*` parameter of the query string is a filter of its own, so its form
        # field checks it, and names it when refusing it, like any other filter.
        names = [name for name in (data or {}) if name.startswith(RESULTS_PREFIX)]
        for number, name in enumerate(names):
            self.filters[name] = ResultFilter(name[len(RESULTS_PREFIX):], f"results_value_{number}")

    def filter_result(self, queryset, name, value: str):
        key, _, expected = value.partition("=")
        return filter_by_result(queryset, key, expected, "result_value")
