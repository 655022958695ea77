"""Every answer of the service to a request it refuses is a JSON error with a 4xx status,
whoever refuses it: the view, DRF, Django's own handlers or a middleware; and a refused
request leaves nothing behind."""

import json

import pytest
from django.conf import settings
from django.test import Client

from orchestra.models import AuditEvent, Token
from orchestra.tokens import create_token
from runs.models import Run
from tests.api.conftest import make_run

pytestmark = pytest.mark.database

TRIGGER = "/api/projects/examples/jobs/hello/trigger"


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = json.loads(response.content)
    assert isinstance(body["error"], str) and body["error"]
    return body


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        '{"parameters": ' + nested(100_000) + "}",
        '{"parameters": {"text": ' + nested(5_000) + "}}",
        '{"parameters": ' + '{"a": ' * 5_000 + "1" + "}" * 5_001,
        '{"parameters": {"text": "hi"}',
        '{"parameters": {"text": NaN}}',
        b'{"parameters": {"text": "\xff"}}',
    ],
    ids=["deep-arrays", "deep-value", "deep-objects", "truncated", "nan", "not-utf8"],
)
def test_a_body_that_cannot_be_parsed_is_a_400(service, catalogue, body):
    assert_json_error(service("operator").post(TRIGGER, body), 400)
    assert not Run.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize("megabytes", [3, 20])
def test_a_body_too_large_is_a_413(service, catalogue, megabytes):
    body = '{"parameters": {"text": "' + "x" * (megabytes * 1024 * 1024) + '"}}'
    error = assert_json_error(service("operator").post(TRIGGER, body), 413)
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in error["error"]
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data; boundary=xx", b"--xx--\r\n"),
        ("multipart/form-data", b"x"),
        ("application/x-www-form-urlencoded", b"parameters=x"),
        ("text/plain", b"{}"),
    ],
)
def test_bodies_are_json_only_and_authentication_comes_first(service, catalogue, content_type, body):
    assert_json_error(Client().post(TRIGGER, body, content_type=content_type), 401)
    operator = service("operator")
    response = operator.client.post(TRIGGER, body, content_type=content_type, headers=operator.headers)
    assert_json_error(response, 415)
    assert not Run.objects.exists()


def test_an_empty_body_is_no_body_whatever_its_type(service, catalogue):
    assert_json_error(Client().post(TRIGGER, b"", content_type="multipart/form-data; boundary=xx"), 401)
    operator = service("operator")
    response = operator.client.post(
        TRIGGER, b"", content_type="multipart/form-data; boundary=xx", headers=operator.headers
    )
    assert response.status_code == 201 and response.json()["parameters"] == {}


@pytest.mark.parametrize(
    "path",
    [
        "/api/projects/examples/jobs/%0A",
        "/api/projects/examples/jobs/%0A/trigger",
        "/api/%0A",
        "/api/runs/x/steps/nope/log",
        "/api/nothing-here",
        "/api/runs/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_every_unmatched_route_is_a_json_404(service, catalogue, path, method):
    viewer = service("viewer")
    assert_json_error(getattr(viewer.client, method)(path, headers=viewer.headers), 404)
    assert_json_error(getattr(Client(), method)(path), 404)


def test_errors_are_json_whatever_the_accept_header(service, catalogue):
    run = make_run(catalogue["hello"])
    anonymous = Client().get("/api/runs", HTTP_ACCEPT="text/html")
    assert_json_error(anonymous, 401)
    viewer = service("viewer")
    assert viewer.get("/api/runs", HTTP_ACCEPT="text/html")["Content-Type"] == "application/json"
    assert_json_error(viewer.get("/api/runs/nope", HTTP_ACCEPT="text/html"), 404)
    # The log and the archive are what they are, whatever a client says it accepts.
    log = viewer.get(f"/api/runs/{run.identifier}/steps/0/log", HTTP_ACCEPT="text/plain")
    assert log.status_code == 200 and log["Content-Type"].startswith("text/plain")
    archive = service("operator").get(f"/api/runs/{run.identifier}/archive", HTTP_ACCEPT="application/zip")
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"


def test_a_disallowed_host_is_a_json_400(service, db):
    assert_json_error(service("viewer").get("/api/runs", HTTP_HOST="evil.example"), 400)


def test_a_method_a_route_does_not_have_is_a_json_405(service, db):
    response = service("viewer").put("/api/runs")
    assert_json_error(response, 405)
    assert response["Allow"]


def test_a_csrf_failure_is_a_json_403(users, catalogue):
    _, session = create_token(users["operator"][0], kind=Token.Kind.SESSION)
    browser = Client(enforce_csrf_checks=True)
    browser.cookies[settings.SESSION_COOKIE_NAME] = session
    response = browser.post(TRIGGER, {}, content_type="application/json")
    assert "CSRF" in assert_json_error(response, 403)["error"]
    assert not Run.objects.exists()


def test_a_server_error_is_json_too(service, catalogue, monkeypatch):
    """No route is known to fail; a fault injected into one stands for the next bug."""
    run = make_run(catalogue["hello"])

    def broken(run, data):
        raise RuntimeError("a transformer's bug")

    monkeypatch.setattr("runs.serializers.run_transformers", lambda: [broken])
    client = Client(raise_request_exception=False, headers=service("viewer").headers)
    assert_json_error(client.get(f"/api/runs/{run.identifier}"), 500)


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/%00", "/api/runs/a%00b/steps/0/log", "/api/workers/%00", "/api/users/%00",
        "/api/users/%00/tokens", "/runs/%00/", "/workers/%00/", "/users/%00/",
        "/admin/auth/user/%00/change/",
    ],
)
def test_a_path_holding_a_nul_character_names_nothing(service, users, path):
    """No identifier holds a NUL, and PostgreSQL cannot even be asked about one (a 500)."""
    _, session = create_token(users["administrator"][0], kind=Token.Kind.SESSION)
    client = Client(headers=service("administrator").headers)
    client.cookies[settings.SESSION_COOKIE_NAME] = session
    response = client.get(path)
    if path.startswith("/api/"):
        assert_json_error(response, 404)
    else:
        assert response.status_code == 404
