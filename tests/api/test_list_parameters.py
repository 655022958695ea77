"""A list's query string is checked whole: a parameter no list takes, a filter given no value,
a page or page size out of bounds are 400s naming the parameter, never ignored."""

import pytest

from tests.api.conftest import make_run

pytestmark = pytest.mark.database

LISTS = {
    "/api/runs": ["project", "job", "status", "worker", "source", "parent", "created_after",
                  "created_before", "result", "ordering"],
    "/api/projects": ["is_configured", "ordering"],
    "/api/jobs": ["project", "enabled", "pipeline", "ordering"],
    "/api/projects/examples/jobs": ["project", "enabled", "pipeline", "ordering"],
    "/api/schedules": ["project", "job", "enabled", "ordering"],
    "/api/projects/examples/schedules": ["project", "job", "enabled", "ordering"],
    "/api/workers": ["connected", "enabled", "ordering"],
    "/api/users": ["username", "role", "is_active", "ordering"],
    "/api/audit": ["actor", "action", "target", "address", "created_after", "created_before",
                   "ordering"],
    "/api/tokens": [],
    "/api/users/viewer-user/tokens": [],
}
EVERY_PARAMETER = [(path, name) for path, names in LISTS.items() for name in names + ["page", "page_size"]]


def refused(response, field: str) -> str:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["field"] == field, body
    return body["error"]


@pytest.mark.parametrize("path, name", EVERY_PARAMETER)
def test_an_empty_parameter_is_refused(service, catalogue, path, name):
    assert "empty" in refused(service("administrator").get(path, {name: ""}), name)


@pytest.mark.parametrize("path", LISTS)
def test_an_unknown_parameter_is_refused(service, catalogue, path):
    for name in ("bogus", "format", "stauts", "page_sizes"):
        assert "unknown" in refused(service("administrator").get(path, {name: "1"}), name)


@pytest.mark.parametrize("path, name, values", [
    ("/api/runs", "project", ("examples", "other")), ("/api/runs", "ordering", ("created", "status")),
    ("/api/jobs", "enabled", ("true", "false")), ("/api/runs", "page", ("1", "2")),
    ("/api/audit", "page_size", ("1", "2")), ("/api/runs", "results__answer", ("1", "2")),
])
def test_a_parameter_that_takes_one_value_given_twice_is_refused(service, catalogue, path, name, values):
    first, second = values
    assert "once" in refused(service("administrator").get(f"{path}?{name}={first}&{name}={second}"), name)


def test_a_repeatable_parameter_may_repeat(service, catalogue):
    make_run(catalogue["hello"], status="failed")
    make_run(catalogue["hello"], status="running")
    response = service("viewer").get("/api/runs?status=failed&status=running")
    assert response.status_code == 200 and response.json()["count"] == 2


@pytest.mark.parametrize("value", ["null", "0", "-1", "501", "1.5", "x", "9223372036854775808"])
def test_page_size_is_an_integer_from_1_to_500(service, catalogue, value):
    assert "500" in refused(service("viewer").get("/api/jobs", {"page_size": value}), "page_size")


def test_page_size_500_is_allowed(service, catalogue):
    assert service("viewer").get("/api/jobs", {"page_size": 500}).json()["count"] == 3


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "x", "null"])
def test_page_is_a_positive_integer(service, catalogue, value):
    refused(service("viewer").get("/api/jobs", {"page": value}), "page")


@pytest.mark.parametrize("page", ["3", "4", "9223372036854775807", "9" * 40])
def test_a_page_past_the_end_answers_the_last_page(service, catalogue, page):
    data = service("viewer").get("/api/jobs", {"page_size": 2, "page": page}).json()
    assert [job["identifier"] for job in data["results"]] == ["lone"]
    assert data["next"] is None and data["previous"].endswith("/api/jobs?page_size=2")


def test_an_empty_list_has_an_empty_first_page(service, db):
    data = service("viewer").get("/api/runs", {"page": 5}).json()
    assert data == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("path, name", [
    ("/api/users", "is_active"), ("/api/jobs", "enabled"), ("/api/jobs", "pipeline"),
    ("/api/workers", "connected"), ("/api/projects", "is_configured"),
])
@pytest.mark.parametrize("value", ["0.5", "yes", "unknown", "2"])
def test_a_boolean_filter_takes_true_or_false_only(service, catalogue, path, name, value):
    """Django's boolean form field reads anything else as "no filter": a list of everything."""
    refused(service("administrator").get(path, {name: value}), name)
    assert service("administrator").get(path, {name: "false"}).status_code == 200


@pytest.mark.parametrize("path", ["/api/runs", "/api/projects", "/api/audit"])
@pytest.mark.parametrize("value", [",", "created,", ",-created", "created,,identifier"])
def test_a_sort_order_with_an_empty_column_is_refused(service, catalogue, path, value):
    """`ordering=,` was a 500 on runs (no column to break ties after) and ignored elsewhere."""
    value = value.replace("created", "identifier") if path == "/api/projects" else value
    assert "empty" in refused(service("administrator").get(path, {"ordering": value}), "ordering")
