"""POST /api/hooks/<project>/<hook>: a delivery signed with the hook's secret triggers its jobs
with parameters from the payload, once per X-GitHub-Delivery (docs/service.md, "Hooks")."""

import asyncio
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orchestra.models import AuditEvent
from projects.models import Hook, HookDelivery
from runs.models import Run
from workers import background

pytestmark = pytest.mark.database

HOOK = "/api/hooks/examples/echo"
SECRET = "It's a Secret to Everybody"


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("ORCHESTRA_HOOK_SECRET_ECHO", SECRET)
    return SECRET


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(payload=None, *, body: bytes | None = None, sign: str | None = None, delivery=None,
         path: str = HOOK, headers: dict | None = None, signed: bool = True):
    if body is None:
        body = json.dumps(payload if payload is not None else {"text": "pushed"}).encode()
    sent = dict(headers or {})
    if signed:
        sent["X-Hub-Signature-256"] = sign if sign is not None else signature(body)
    if delivery is not None:
        sent["X-GitHub-Delivery"] = delivery
    return Client().post(path, body, content_type="application/json", headers=sent,
                         REMOTE_ADDR="192.0.2.7")


def test_a_signed_delivery_triggers_the_hooks_job_with_the_payloads_field(catalogue, secret):
    response = post({"text": "pushed", "other": [1, 2]}, delivery="d-1")
    assert response.status_code == 201, response.content
    [run] = Run.objects.all()
    assert response.json() == {"hook": "examples/echo", "delivery": "d-1", "runs": [run.identifier]}
    assert (run.job, run.parameters, run.source, run.hook) == (
        catalogue["echo"], {"text": "pushed"}, "hook", catalogue["hook"],
    )
    assert run.triggered_by is None
    [event] = AuditEvent.objects.filter(action="run.trigger")
    assert (event.actor_name, event.target, event.address) == (
        "hook:examples/echo", run.identifier, "192.0.2.7",
    )


def test_the_service_says_which_hook_triggered_a_run(catalogue, secret, service):
    identifier = post().json()["runs"][0]
    answer = service("viewer").get(f"/api/runs/{identifier}").json()
    assert (answer["source"], answer["hook"], answer["triggered_by"]) == ("hook", "echo", None)


@pytest.mark.parametrize("sent, reason", [
    (None, "the X-Hub-Signature-256 header is missing"),
    (signature(b'{"text": "pushed"}', "another secret"), "the X-Hub-Signature-256 signature is wrong"),
    ("sha256=", "the X-Hub-Signature-256 signature is wrong"),
    ("sha1=" + "0" * 40, "the X-Hub-Signature-256 signature is wrong"),
])
def test_a_missing_or_wrong_signature_is_a_401_audited_and_triggers_nothing(catalogue, secret, sent, reason):
    response = post(body=b'{"text": "pushed"}', sign=sent, signed=sent is not None, delivery="d-1")
    assert response.status_code == 401, response.content
    assert response.json() == {"error": reason}
    assert not Run.objects.exists() and not HookDelivery.objects.exists()
    [event] = AuditEvent.objects.all()
    assert (event.action, event.target, event.actor_name, event.address, event.details) == (
        "hook.refused", "examples/echo", "anonymous", "192.0.2.7", {"reason": reason},
    )


def test_a_signature_of_another_body_is_refused(catalogue, secret):
    response = post(body=b'{"text": "evil"}', sign=signature(b'{"text": "pushed"}'))
    assert response.status_code == 401
    assert not Run.objects.exists()


def test_a_users_token_is_no_substitute_for_the_signature(catalogue, secret, users):
    response = post(signed=False, headers={"Authorization": f"Bearer {users['administrator'][1]}"})
    assert response.status_code == 401
    assert not Run.objects.exists()


@pytest.mark.parametrize("value", [None, ""])
def test_while_the_secret_is_unset_the_hook_refuses_every_call_with_503(catalogue, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("ORCHESTRA_HOOK_SECRET_ECHO", raising=False)
    else:
        monkeypatch.setenv("ORCHESTRA_HOOK_SECRET_ECHO", value)
    # Even signed with the empty key, which anyone could do.
    response = post(sign=signature(b'{"text": "pushed"}', ""))
    assert response.status_code == 503, response.content
    assert response.json() == {
        "error": "hook examples/echo refuses every call: its secret, the environment variable "
                 "ORCHESTRA_HOOK_SECRET_ECHO, is not set on this server",
    }
    assert not Run.objects.exists()


def test_without_a_signature_it_is_a_401_even_while_the_secret_is_unset(catalogue, monkeypatch):
    monkeypatch.delenv("ORCHESTRA_HOOK_SECRET_ECHO", raising=False)
    response = post(signed=False)
    assert (response.status_code, response.json()) == (
        401, {"error": "the X-Hub-Signature-256 header is missing"},
    )
    assert AuditEvent.objects.filter(action="hook.refused").count() == 1


def test_the_secret_may_come_from_a_file(catalogue, monkeypatch, tmp_path):
    monkeypatch.delenv("ORCHESTRA_HOOK_SECRET_ECHO", raising=False)
    (tmp_path / "secret").write_text(SECRET + "\n")
    monkeypatch.setenv("ORCHESTRA_HOOK_SECRET_ECHO_FILE", str(tmp_path / "secret"))
    assert post().status_code == 201


def test_a_repeated_delivery_triggers_once_and_answers_the_same_runs(catalogue, secret):
    first = post(delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    again = post(delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert list(Run.objects.values_list("identifier", flat=True)) == first.json()["runs"]
    assert AuditEvent.objects.filter(action="run.trigger").count() == 1


def test_the_repeat_answers_the_same_identifiers_once_the_run_is_deleted(catalogue, secret):
    first = post(delivery="d-1")
    Run.objects.all().delete()
    again = post(delivery="d-1")
    assert (again.status_code, again.json()) == (200, first.json())
    assert not Run.objects.exists()


def test_deliveries_belong_to_their_hook_and_without_an_identifier_each_call_triggers(catalogue, secret):
    Hook.objects.create(project=catalogue["project"], identifier="again",
                        secret_variable="ORCHESTRA_HOOK_SECRET_ECHO", jobs={"echo": {"text": "text"}})
    assert post(delivery="d-1").status_code == 201
    assert post(delivery="d-1", path="/api/hooks/examples/again").status_code == 201
    assert [post().status_code for _ in range(2)] == [201, 201]
    assert Run.objects.count() == 4


def test_the_same_delivery_with_another_body_is_a_422_and_triggers_nothing(catalogue, secret):
    post({"text": "first"}, delivery="d-1")
    response = post({"text": "second"}, delivery="d-1")
    assert response.status_code == 422, response.content
    assert "another body" in response.json()["error"]
    assert list(Run.objects.values_list("parameters", flat=True)) == [{"text": "first"}]


@pytest.mark.django_db(transaction=True)  # housekeeping reads the database from its own thread
def test_housekeeping_forgets_deliveries_after_seven_days(catalogue, secret):
    post(delivery="old")
    post(delivery="recent")
    HookDelivery.objects.filter(delivery="old").update(created=timezone.now() - timedelta(days=7, seconds=1))
    HookDelivery.objects.filter(delivery="recent").update(created=timezone.now() - timedelta(days=6))
    asyncio.run(background.housekeeping())
    assert list(HookDelivery.objects.values_list("delivery", flat=True)) == ["recent"]
    assert post(delivery="old").status_code == 201
    assert post(delivery="recent").status_code == 200


def test_an_expired_delivery_not_yet_forgotten_triggers_again(catalogue, secret):
    post(delivery="d-1")
    HookDelivery.objects.update(created=timezone.now() - timedelta(days=8))
    assert post(delivery="d-1").status_code == 201
    assert Run.objects.count() == 2 and HookDelivery.objects.count() == 1


def test_a_missing_field_is_a_400_naming_it_and_triggers_nothing(catalogue, secret):
    response = post({"message": "no text"}, delivery="d-1")
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "payload.text"
    assert response.json()["error"] == "the payload has no field 'text' (parameter 'text' of job 'echo')"
    assert not Run.objects.exists() and not HookDelivery.objects.exists()
    # The delivery was not stored: once the payload is right, the same identifier triggers.
    assert post({"text": "fixed"}, delivery="d-1").status_code == 201


@pytest.mark.parametrize("text, message", [
    ({"a": 1}, "parameter 'text' must be a string, number or boolean"),
    (None, "parameter 'text' must be a string, number or boolean"),
    ("x" * 11, "parameter 'text' must be at most 10 characters"),
    ("\ud800", "parameter 'text' "),
])
def test_a_value_the_jobs_parameter_refuses_is_a_400_and_triggers_nothing(catalogue, secret, text, message):
    catalogue["echo"].parameters = [{"name": "text", "required": True, "max_length": 10}]
    catalogue["echo"].save()
    response = post(body=json.dumps({"text": text}).encode())
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "jobs.echo.parameters.text"
    assert response.json()["error"].startswith(f"job 'echo': {message}"), response.json()
    assert not Run.objects.exists()


def test_the_jobs_of_a_hook_are_triggered_all_or_none(catalogue, secret):
    catalogue["hook"].jobs = {"hello": {}, "echo": {"text": "text"}}  # not in order
    catalogue["hook"].save()
    answer = post({"text": 12}).json()
    # In the order of the jobs' identifiers.
    assert [Run.objects.get(identifier=run).job.identifier for run in answer["runs"]] == ["echo", "hello"]
    catalogue["echo"].parameters = [{"name": "text", "required": True, "minimum": 0, "maximum": 10}]
    catalogue["echo"].save()
    assert post({"text": 12}).status_code == 400
    assert Run.objects.count() == 2


def test_nested_fields_and_list_items_become_parameters(catalogue, secret):
    catalogue["hook"].jobs = {"echo": {"text": "head_commit.id"}}
    catalogue["hook"].save()
    assert post({"head_commit": {"id": "abc123"}}).status_code == 201
    catalogue["hook"].jobs = {"echo": {"text": "commits.1.id"}}
    catalogue["hook"].save()
    assert post({"commits": [{"id": "first"}, {"id": "second"}]}).status_code == 201
    assert list(Run.objects.order_by("id").values_list("parameters", flat=True)) == [
        {"text": "abc123"}, {"text": "second"},
    ]


def test_a_disabled_job_is_a_409_and_triggers_nothing(catalogue, secret):
    catalogue["echo"].is_enabled = False
    catalogue["echo"].save()
    response = post(delivery="d-1")
    assert response.status_code == 409 and "disabled" in response.json()["error"]
    assert not Run.objects.exists() and not HookDelivery.objects.exists()


@pytest.mark.parametrize("body", [b"not json", b"", b"\xff\xfe\x00", b"[" * 100_000])
def test_a_body_that_is_not_json_is_a_400(catalogue, secret, body):
    response = post(body=body)
    assert response.status_code == 400, response.content
    assert response.json() == {"error": "the body is not JSON"}
    assert not Run.objects.exists()


@pytest.mark.parametrize("signed", [True, False])
def test_a_body_over_a_mebibyte_is_a_413_before_its_signature_is_checked(catalogue, secret, signed):
    body = json.dumps({"text": "x", "padding": "x" * 1024 * 1024}).encode()
    response = post(body=body, signed=signed)
    assert response.status_code == 413, response.content
    assert "1048576 bytes" in response.json()["error"]
    assert not Run.objects.exists()


def test_a_delivery_identifier_that_is_not_one_is_a_400(catalogue, secret):
    response = post(delivery="two words")
    assert response.status_code == 400
    assert response.json()["field"] == "X-GitHub-Delivery"
    assert not Run.objects.exists()


def test_a_ping_triggers_nothing(catalogue, secret):
    response = post({"zen": "Keep it logically awesome."}, headers={"X-GitHub-Event": "ping"})
    assert (response.status_code, response.json()) == (
        200, {"hook": "examples/echo", "delivery": None, "runs": []},
    )
    assert not Run.objects.exists()


@pytest.mark.parametrize("path", ["/api/hooks/examples/nope", "/api/hooks/nope/echo"])
def test_an_unknown_hook_is_a_404(catalogue, secret, path):
    response = post(path=path)
    assert response.status_code == 404 and response.json()["error"]


def test_a_hook_no_longer_configured_is_a_404(catalogue, secret):
    catalogue["hook"].is_configured = False
    catalogue["hook"].save()
    assert post().status_code == 404
    assert not Run.objects.exists()


@pytest.mark.parametrize("body", [
    b"[]", b"42", b'"text"', b"null", b'{"text": NaN}', b'{"text": Infinity}', b'{"text": 1e400}',
    b'{"text": 99999999999999999999}', b'{"text": "\\ud800"}', b'{"text": "a\\u0000b"}',
    b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}", b'{"text": "x", "text": {"a": 1}}',
    '{"text": "é☃"}'.encode("utf-16"), b'\xef\xbb\xbf{"text": "bom"}',
])
def test_signed_hostile_payloads_are_refused_or_triggered_never_a_server_error(catalogue, secret, body):
    response = post(body=body)
    assert response.status_code in (201, 400), response.content
    assert "error" in response.json() or response.status_code == 201
    for run in Run.objects.all():
        # What was stored can be shown back.
        json.dumps(run.parameters, allow_nan=False).encode()


def test_the_service_lists_a_projects_hooks_and_whether_their_secret_is_set(catalogue, service, monkeypatch):
    Hook.objects.create(project=catalogue["project"], identifier="removed", is_configured=False,
                        secret_variable="GONE", jobs={"hello": {}})
    monkeypatch.delenv("ORCHESTRA_HOOK_SECRET_ECHO", raising=False)
    expected = {
        "project": "examples", "identifier": "echo", "url": "/api/hooks/examples/echo",
        "jobs": {"echo": {"text": "text"}}, "secret_variable": "ORCHESTRA_HOOK_SECRET_ECHO",
        "secret_is_set": False,
    }
    response = service("viewer").get("/api/projects/examples/hooks")
    assert response.status_code == 200
    assert response.json()["results"] == [expected]
    monkeypatch.setenv("ORCHESTRA_HOOK_SECRET_ECHO", SECRET)
    assert service("viewer").get("/api/projects/examples/hooks").json()["results"] == [
        {**expected, "secret_is_set": True},
    ]
    assert service("viewer").get("/api/projects/nope/hooks").status_code == 404
