"""Pages of lists, for the website and the service alike."""

from collections.abc import Mapping

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

from orchestra.values import InvalidValue

# SQL's OFFSET is a signed 64-bit integer on every database we run on: a page further than
# that was a database error (a 500), not an empty page.
LARGEST_OFFSET = 2**63 - 1
MAX_PAGE_SIZE = 500


class QueryValueError(InvalidValue):
    """A query parameter's value the list cannot use; `field` names the parameter."""


def positive_integer(query: Mapping[str, str], name: str, maximum: int | None = None) -> int | None:
    """The parameter as an integer from 1 (to `maximum`), None when absent; raises
    QueryValueError. A blank or repeated one is the FilterSet's to refuse (QueryForm)."""
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    bounds = f"from 1 to {maximum}" if maximum else "from 1"
    try:
        value = int(raw)
    except ValueError:
        raise QueryValueError(name, f"must be an integer {bounds}") from None
    if value < 1 or (maximum and value > maximum):
        raise QueryValueError(name, f"must be an integer {bounds}")
    return value


def reachable_page(number: int, size: int) -> int:
    """The page number, or a page past the end of any list when the number is beyond what
    an OFFSET can reach."""
    return min(number, LARGEST_OFFSET // size)


class PageNumberPagination(pagination.PageNumberPagination):
    """`page` from 1 and `page_size` from 1 to 500, else a 400 naming the parameter; a page
    past the end is the last page, as on the website (an old link still shows something)."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        size = self.checked(request, self.page_size_query_param, self.max_page_size)
        return self.page_size if size is None else size

    def paginate_queryset(self, queryset, request, view=None) -> list:
        self.request = request
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        number = self.checked(request, self.page_query_param) or 1
        self.page = paginator.page(min(number, paginator.num_pages))
        return list(self.page)

    def checked(self, request, name: str, maximum: int | None = None) -> int | None:
        try:
            return positive_integer(request.query_params, name, maximum)
        except QueryValueError as error:
            raise ValidationError({error.field: [error.message]}) from None

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
                parameter["description"] = f"Number of results per page (default {self.page_size})."
            else:
                parameter["description"] = "A page number; past the end, the last page."
        return parameters
