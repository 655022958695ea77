"""`runmaster --serve`: a process answers 404 for the applications it does not serve (the
website, the service), and refuses worker connections unless it serves the master; a partial
set stops at start without Redis, saying why."""

import json

import pytest
from channels.testing import ApplicationCommunicator, WebsocketCommunicator

from orchestra.asgi import application_serving
from tests.orchestra.fresh_process import run_python

pytestmark = pytest.mark.django_db(transaction=True)

WEBSITE_PAGE = "/login/"
STATIC_FILE = "/static/orchestra.css"
SERVICE_ROUTE = "/api/me"


async def status_of(served: set[str], path: str) -> tuple[int, bytes]:
    """The status and body a process serving `served` answers to a GET of `path`."""
    communicator = ApplicationCommunicator(application_serving(frozenset(served)), {
        "type": "http", "http_version": "1.1", "method": "GET", "path": path,
        "raw_path": path.encode(), "query_string": b"", "headers": [(b"host", b"localhost")],
    })
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=10)
    body, more = b"", True
    while more:  # a static file comes in several messages
        message = await communicator.receive_output(timeout=10)
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return start["status"], body


async def worker_connection_accepted(served: set[str]) -> bool:
    communicator = WebsocketCommunicator(application_serving(frozenset(served)), "/ws/master/")
    connected, _ = await communicator.connect(timeout=10)
    await communicator.disconnect()
    return connected


@pytest.mark.parametrize("served, answers", [
    ({"website", "service", "master"}, {WEBSITE_PAGE: 200, STATIC_FILE: 200, SERVICE_ROUTE: 401}),
    ({"website"}, {WEBSITE_PAGE: 200, STATIC_FILE: 200, SERVICE_ROUTE: 404}),
    ({"service"}, {WEBSITE_PAGE: 404, STATIC_FILE: 404, SERVICE_ROUTE: 401}),
    ({"master"}, {WEBSITE_PAGE: 404, STATIC_FILE: 404, SERVICE_ROUTE: 404}),
    ({"website", "service"}, {WEBSITE_PAGE: 200, STATIC_FILE: 200, SERVICE_ROUTE: 401}),
])
async def test_a_process_answers_404_for_what_it_does_not_serve(served, answers):
    assert {path: (await status_of(served, path))[0] for path in answers} == answers


async def test_the_404_says_what_the_process_does_not_serve_as_json_under_the_service():
    status, body = await status_of({"website"}, SERVICE_ROUTE)
    assert (status, json.loads(body)) == (404, {"error": "this process does not serve the service"})
    status, body = await status_of({"service"}, WEBSITE_PAGE)
    assert (status, body) == (404, b"Not Found: this process does not serve the website\n")


@pytest.mark.parametrize("served, accepted", [
    ({"website", "service", "master"}, True),
    ({"master"}, True),
    ({"website"}, False),
    ({"service"}, False),
    ({"website", "service"}, False),
])
async def test_only_a_process_serving_the_master_accepts_workers(served, accepted):
    # Accepted, the connection then hears why it is refused (no token): that is the master's
    # consumer. Not served, the handshake itself is refused.
    assert await worker_connection_accepted(served) is accepted


def runmaster(tmp_path, *arguments: str, **variables: str):
    return run_python(tmp_path, variables, "manage.py", "runmaster", "--port", "0", *arguments)


@pytest.mark.parametrize("serve", ["website", "service", "master", "website,service"])
def test_a_partial_set_without_redis_stops_naming_the_variable_and_why(tmp_path, serve):
    completed = runmaster(tmp_path, "--serve", serve)
    assert completed.returncode != 0
    assert f"--serve {serve} needs ORCHESTRA_REDIS_URL" in completed.stderr
    assert "wake the master's dispatch" in completed.stderr


def test_an_unknown_application_is_refused_naming_the_three(tmp_path):
    completed = runmaster(tmp_path, "--serve", "website,workers")
    assert completed.returncode != 0
    assert "'workers'" in completed.stderr and "website, service, master" in completed.stderr
