"""Helpers shared by the website's views: filtered, sorted, paginated lists."""

from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import BadRequest
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.html import format_html_join

from orchestra.filters import checked, is_blank
from orchestra.pagination import QueryValueError, positive_integer, reachable_page

PAGE_SIZE = 50


@dataclass
class ListPage:
    """One page of a list whose length is not counted: counting 100,000 runs cost more than
    reading the page (and, with a filter no index answers, more than everything else).

    `total` is known only on the last page, which is the page that holds the end of the list.
    """

    objects: list
    number: int
    has_next: bool
    total: int | None

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def list_page(queryset: QuerySet, number: int, size: int = PAGE_SIZE, rows=None) -> ListPage:
    """Page `number` of the queryset: its keys first, then only those rows with their joins.

    The keys of the page and one more (does a next page exist?) come from an index alone, so
    a deep page (OFFSET 50,000) walks an index instead of joining every skipped row to its
    project, job and worker. A page past the end (an old link) shows the last page instead,
    found with the one count this needs. `rows(keys)` loads the rows by key (default: the
    queryset's model instances).
    """
    keys = _page_keys(queryset, reachable_page(number, size), size)
    if not keys and number > 1:
        number = max((queryset.count() + size - 1) // size, 1)
        keys = _page_keys(queryset, number, size)
    has_next = len(keys) > size
    keys = keys[:size]
    found = (rows or queryset.order_by().in_bulk)(keys) if keys else {}
    return ListPage(
        objects=[found[key] for key in keys if key in found],
        number=number,
        has_next=has_next,
        total=None if has_next else (number - 1) * size + len(keys),
    )


def _page_keys(queryset: QuerySet, number: int, size: int) -> list:
    bottom = (number - 1) * size
    return list(queryset.values_list("pk", flat=True)[bottom:bottom + size + 1])


@dataclass
class Listing:
    """A FilterSet applied to a query string, and the requested page of its results."""

    filterset: object
    page: ListPage
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def objects(self) -> list:
        return self.page.objects

    @property
    def filter_fields(self) -> str:
        """The filter form's fields as HTML (all but the sort order, kept in the links)."""
        query = tuple(sorted(
            (name, tuple(values)) for name, values in self.filterset.data.lists() if name != "page"
        ))
        return _filter_fields(type(self.filterset), query)


@lru_cache(maxsize=256)
def _filter_fields(filterset_class, query: tuple) -> str:
    """Rendering a form's widgets cost more than a list page's queries; the HTML depends on
    the query string alone (no choices come from the database), so it is rendered once."""
    data = QueryDict(mutable=True)
    for name, values in query:
        data.setlist(name, list(values))
    form = filterset_class(data).form
    return format_html_join(
        "", "<label>{} {}</label>", ((field.label, field) for field in form if field.name != "ordering")
    )


class InvalidListQuery(BadRequest):
    """A list's query string the list cannot use: the 400 page shows the filter form and why
    (orchestra.views.bad_request)."""

    def __init__(self, listing: Listing):
        super().__init__("; ".join(f"{name}: {' '.join(errors)}" for name, errors in listing.errors.items()))
        self.listing = listing


def filtered_list(request, filterset_class, queryset: QuerySet, page_size: int = PAGE_SIZE,
                  rows=None) -> Listing:
    """The page of the list the query string asks for, by the service's rules (a parameter the
    list does not take, an invalid value or page: InvalidListQuery), except that blank values
    are left out: the filter form sends every field, the empty ones too."""
    data = QueryDict(mutable=True)
    for name, values in request.GET.lists():
        given = [value for value in values if not is_blank(value)]
        if given:
            data.setlist(name, given)
    filterset = checked(filterset_class)(data, queryset=queryset, accepted=["page"])
    errors = {name: list(messages) for name, messages in filterset.errors.items()}
    try:
        number = positive_integer(data, "page") or 1
    except QueryValueError as error:
        errors.setdefault(error.field, [error.message])
    if errors:
        empty = ListPage(objects=[], number=1, has_next=False, total=0)
        raise InvalidListQuery(Listing(filterset=filterset, page=empty, errors=errors))
    return Listing(filterset=filterset, page=list_page(filterset.qs, number, page_size, rows))
