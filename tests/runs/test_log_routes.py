"""A step's log read by offset and limit: the website's raw log and the service's log route
follow one rule, so a URL's query means the same on both."""

import pytest

from orchestra.extensions import log_store
from runs.models import Status
from tests.api.conftest import catalogue, fast_password_hashing, make_run, service, users  # noqa: F401

LOG = b"line 1\nline 2\n<script>\n"
ROUTES = {
    "website": "/runs/{identifier}/steps/0/raw",
    "service": "/api/runs/{identifier}/steps/0/log",
}
# The same answers from either log store.
pytestmark = pytest.mark.usefixtures("configured_log_store")


@pytest.fixture
def logged_run(catalogue):  # noqa: F811
    run = make_run(catalogue["hello"], status=Status.RUNNING)
    log_store().append(run.identifier, 0, 0, LOG)
    yield run
    log_store().delete(run.identifier)


@pytest.fixture(params=ROUTES)
def read(request, service, logged_run):  # noqa: F811
    """read(query) asks one of the two routes for the log of `logged_run`."""
    path = ROUTES[request.param].format(identifier=logged_run.identifier)
    return lambda query=None: service("viewer").get(path, query or {})


def body(response) -> bytes:
    return response.getvalue()


def test_offset_and_limit_choose_the_bytes(read):
    response = read({"offset": 7, "limit": 6})
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    assert body(response) == b"line 2"
    assert response["X-Log-Size"] == "23" and response["X-Run-Status"] == "running"


def test_without_a_limit_the_rest_of_the_log_is_read(read):
    assert body(read()) == LOG
    assert body(read({"offset": 7})) == b"line 2\n<script>\n"
    assert body(read({"offset": 23})) == b""


@pytest.mark.parametrize("name, value", [
    ("offset", "-1"), ("offset", "x"), ("offset", "1.5"), ("limit", "-1"), ("limit", "many"),
])
def test_a_bad_offset_or_limit_answers_400_naming_it(read, name, value):
    response = read({name: value})
    assert response.status_code == 400
    if response["Content-Type"] == "application/json":
        assert response.json()["field"] == name
        assert response.json()["error"] == "must be a non-negative integer"
    else:
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert body(response) == f"{name}: must be a non-negative integer".encode()


@pytest.mark.parametrize("offset", [2**63, 2**64, 10**40])
def test_an_offset_past_the_end_reads_nothing(read, offset):
    response = read({"offset": offset})
    assert response.status_code == 200 and body(response) == b""
    assert response["X-Log-Size"] == "23"


def test_a_huge_limit_reads_the_rest(read):
    assert body(read({"offset": 14, "limit": 2**63})) == b"<script>\n"


def test_a_log_longer_than_any_one_buffer_is_read_whole(read, logged_run):
    # Beyond the 16 MiB the service once capped a read at: the routes stream, so there is no cap.
    more = b"x" * (17 * 1024 * 1024 - 1) + b"\n"
    log_store().append(logged_run.identifier, 0, len(LOG), more)
    response = read()
    assert body(response) == LOG + more
    assert response["X-Log-Size"] == str(len(LOG) + len(more))
