"""Helpers shared by the website's views: filtered, sorted, paginated lists."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

PAGE_SIZE = 50


class KeysFirstPaginator(Paginator):
    """Finds the page's primary keys first, then loads only those rows with their joins.

    A deep page (OFFSET 50,000) then walks an index alone instead of joining every skipped
    row to its project, job and worker.
    """

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = self.object_list.filter(pk__in=keys).order_by().in_bulk(keys) if keys else {}
        return self._get_page([rows[key] for key in keys if key in rows], number, self)


@dataclass
class Listing:
    """A FilterSet applied to a query string, and the requested page of its results."""

    filterset: object
    page: Page

    @property
    def objects(self) -> list:
        return self.page.object_list


def filtered_list(request, filterset_class, queryset: QuerySet, page_size: int = PAGE_SIZE) -> Listing:
    # Invalid filter values are shown on the form and left out of the query, as the service does.
    filterset = filterset_class(request.GET, queryset=queryset)
    paginator = KeysFirstPaginator(filterset.qs, page_size)
    return Listing(filterset=filterset, page=paginator.get_page(request.GET.get("page")))
