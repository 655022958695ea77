"""Helpers shared by the website's views: filtered, sorted, paginated lists."""

from dataclasses import dataclass
from functools import lru_cache

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.html import format_html_join

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


def page_number(text) -> int:
    try:
        return max(int(text), 1)
    except (TypeError, ValueError):
        return 1


def list_page(queryset: QuerySet, number: int, size: int = PAGE_SIZE, rows=None) -> ListPage:
    """Page `number` of the queryset: its keys first, then only those rows with their joins.

    The keys of the page and one more (does a next page exist?) come from an index alone, so
    a deep page (OFFSET 50,000) walks an index instead of joining every skipped row to its
    project, job and worker. A page past the end (an old link) shows the last page instead,
    found with the one count this needs. `rows(keys)` loads the rows by key (default: the
    queryset's model instances).
    """
    keys = _page_keys(queryset, number, size)
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


def filtered_list(request, filterset_class, queryset: QuerySet, page_size: int = PAGE_SIZE,
                  rows=None) -> Listing:
    # Invalid filter values are shown on the form and left out of the query, as the service does.
    filterset = filterset_class(request.GET, queryset=queryset)
    page = list_page(filterset.qs, page_number(request.GET.get("page")), page_size, rows)
    return Listing(filterset=filterset, page=page)
