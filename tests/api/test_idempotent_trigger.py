"""The trigger's Idempotency-Key: the same key from the same user within 24 hours answers the
run the first request created (200), and never creates another (docs/service.md)."""

import asyncio
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from orchestra.models import AuditEvent
from runs.models import IdempotencyKey, Run
from workers import background

pytestmark = pytest.mark.database

TRIGGER = "/api/projects/examples/jobs/echo/trigger"


def trigger(client, key: str | None, body: dict | None = None, path: str = TRIGGER):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.client.post(path, body or {"parameters": {"text": "hi"}},
                              content_type="application/json", headers={**client.headers, **headers})


def test_the_same_key_answers_the_run_it_created_with_200_and_creates_no_other(service, catalogue):
    operator = service("operator")
    first = trigger(operator, "deploy-42")
    assert first.status_code == 201, first.content
    again = trigger(operator, "deploy-42")
    assert again.status_code == 200, again.content
    assert again.json()["identifier"] == first.json()["identifier"]
    assert again.json()["parameters"] == {"text": "hi"}
    assert list(Run.objects.values_list("identifier", flat=True)) == [first.json()["identifier"]]
    # A replay changes nothing, so it is not audited.
    assert AuditEvent.objects.filter(action="run.trigger").count() == 1


def test_without_a_key_every_trigger_creates_a_run(service, catalogue):
    operator = service("operator")
    assert [trigger(operator, None).status_code for _ in range(2)] == [201, 201]
    assert Run.objects.count() == 2


def test_keys_belong_to_their_user(service, catalogue):
    operator, administrator = service("operator"), service("administrator")
    mine = trigger(operator, "shared-key")
    theirs = trigger(administrator, "shared-key")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["identifier"] != theirs.json()["identifier"]


@pytest.mark.parametrize("body, path", [
    ({"parameters": {"text": "other"}}, TRIGGER),
    ({"parameters": {"text": "hi"}, "priority": 5}, TRIGGER),
    ({"parameters": {}}, "/api/projects/examples/jobs/hello/trigger"),
])
def test_the_same_key_with_another_job_or_body_is_a_422_and_creates_nothing(service, catalogue, body, path):
    operator = service("operator")
    first = trigger(operator, "deploy-42")
    reused = trigger(operator, "deploy-42", body, path)
    assert reused.status_code == 422, reused.content
    assert reused.json() == {
        "error": "this Idempotency-Key was used for another request (another job, parameters or "
                 "priority): use a new key",
    }
    assert list(Run.objects.values_list("identifier", flat=True)) == [first.json()["identifier"]]


def test_parameters_are_compared_as_sent_not_as_resolved(service, catalogue):
    """A default given explicitly is another request: the key's answer would not say which
    parameters the client meant."""
    operator = service("operator")
    catalogue["echo"].parameters = [{"name": "text", "default": "Hello"}]
    catalogue["echo"].save()
    assert trigger(operator, "deploy-42", {"parameters": {}}).status_code == 201
    assert trigger(operator, "deploy-42", {"parameters": {"text": "Hello"}}).status_code == 422


def test_the_same_key_answers_its_run_even_once_the_job_is_disabled(service, catalogue):
    operator = service("operator")
    first = trigger(operator, "deploy-42")
    catalogue["echo"].is_enabled = False
    catalogue["echo"].save()
    again = trigger(operator, "deploy-42")
    assert (again.status_code, again.json()["identifier"]) == (200, first.json()["identifier"])
    assert trigger(operator, "deploy-43").status_code == 409


def test_a_key_is_forgotten_after_24_hours(service, catalogue):
    operator = service("operator")
    first = trigger(operator, "nightly")
    later = timezone.now() + timedelta(hours=24, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        second = trigger(operator, "nightly")
        assert second.status_code == 201, second.content
        assert second.json()["identifier"] != first.json()["identifier"]
        # ...and the new run is the key's answer from then on.
        third = trigger(operator, "nightly")
    assert (third.status_code, third.json()["identifier"]) == (200, second.json()["identifier"])


def test_a_key_is_kept_just_under_24_hours(service, catalogue):
    operator = service("operator")
    first = trigger(operator, "nightly")
    later = timezone.now() + timedelta(hours=23, minutes=59)
    with mock.patch("django.utils.timezone.now", return_value=later):
        again = trigger(operator, "nightly")
    assert (again.status_code, again.json()["identifier"]) == (200, first.json()["identifier"])


def test_a_key_whose_run_was_deleted_is_a_409_and_starts_nothing(service, catalogue):
    operator = service("operator")
    first = trigger(operator, "deploy-42")
    Run.objects.filter(identifier=first.json()["identifier"]).delete()
    again = trigger(operator, "deploy-42")
    assert again.status_code == 409, again.content
    assert again.json() == {"error": "the run this Idempotency-Key created has been deleted"}
    assert Run.objects.count() == 0


def test_a_refused_trigger_keeps_no_key(service, catalogue):
    operator = service("operator")
    refused = trigger(operator, "deploy-42", {"parameters": {"colour": "red"}})
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert trigger(operator, "deploy-42").status_code == 201


@pytest.mark.parametrize("key", ["", "a b", "caf\u00e9", "x" * 256, "tab\there"])
def test_a_key_outside_the_rule_is_a_400(service, catalogue, key):
    response = trigger(service("operator"), key)
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "Idempotency-Key"
    assert Run.objects.count() == 0


def test_the_longest_key_is_taken(service, catalogue):
    key = "k" * 255
    operator = service("operator")
    assert [trigger(operator, key).status_code for _ in range(2)] == [201, 200]


@pytest.mark.django_db(transaction=True)  # housekeeping reads the database from its own thread
def test_housekeeping_deletes_keys_older_than_24_hours(service, catalogue):
    operator = service("operator")
    trigger(operator, "old")
    IdempotencyKey.objects.update(created=timezone.now() - timedelta(hours=25))
    trigger(operator, "new")
    asyncio.run(background.housekeeping())
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_the_schema_declares_the_header_and_the_answers(service, catalogue):
    schema = service("viewer").get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/projects/{project}/jobs/{job}/trigger"]["post"]
    [header] = [parameter for parameter in operation["parameters"] if parameter["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and not header.get("required", False)
    assert header["schema"] == {"type": "string", "pattern": "^[!-~]{1,255}$"}
    assert {"200", "201", "409", "422"} <= set(operation["responses"])
