"""Helpers shared by the website's views: filtered, sorted, paginated lists."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

PAGE_SIZE = 50


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
    paginator = Paginator(filterset.qs, page_size)
    return Listing(filterset=filterset, page=paginator.get_page(request.GET.get("page")))
