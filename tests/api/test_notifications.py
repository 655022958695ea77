"""GET /api/runs/<identifier>/notifications: each notification of the run's end with every
attempt and its outcome; a job says who is told when its runs end. A webhook is shown by its
origin alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import NotificationAttempt, NotificationDelivery, Status
from tests.api.conftest import make_run

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com:8443/services/T000/B000/XXXXXXXX?token=abc"


def notify(run, kind: str, target: str, state: str, outcomes: list[tuple]) -> NotificationDelivery:
    now = timezone.now()
    delivery = NotificationDelivery.objects.create(
        run=run, kind=kind, target=target, payload={}, state=state, attempts=len(outcomes),
        next_attempt=now + timedelta(seconds=60),
    )
    for number, (succeeded, code, error) in enumerate(outcomes, start=1):
        NotificationAttempt.objects.create(
            delivery=delivery, number=number, started=now, finished=now, master="m:1",
            succeeded=succeeded, status_code=code, error=error,
        )
    return delivery


def test_the_notifications_of_a_run_with_their_attempts(service, catalogue):
    run = make_run(catalogue["hello"], status=Status.FAILED)
    webhook = notify(run, "webhook", HOOK, "delivered",
                     [(False, 500, "the receiver answered 500 Internal Server Error"), (True, 204, "")])
    mail = notify(run, "email", "a@example.com\nb@example.com", "pending",
                  [(False, None, "ConnectionRefusedError: [Errno 111] Connection refused")])
    make_run(catalogue["hello"])  # another run's are not listed

    response = service("viewer").get(f"/api/runs/{run.identifier}/notifications")
    assert response.status_code == 200
    [first, second] = response.json()
    assert first == {
        "identifier": webhook.identifier, "kind": "webhook",
        "to": "https://hooks.example.com:8443/…", "state": "delivered",
        "created": first["created"], "delivered": None, "next_attempt": None,
        "attempts": [
            {"number": 1, "started": first["attempts"][0]["started"],
             "finished": first["attempts"][0]["finished"], "master": "m:1", "succeeded": False,
             "status_code": 500, "error": "the receiver answered 500 Internal Server Error"},
            {"number": 2, "started": first["attempts"][1]["started"],
             "finished": first["attempts"][1]["finished"], "master": "m:1", "succeeded": True,
             "status_code": 204, "error": ""},
        ],
    }
    assert (second["identifier"], second["to"], second["state"]) == (
        mail.identifier, "a@example.com, b@example.com", "pending")
    assert second["next_attempt"] is not None
    assert [a["error"] for a in second["attempts"]] == [
        "ConnectionRefusedError: [Errno 111] Connection refused"]
    assert "XXXXXXXX" not in response.content.decode() and "token=abc" not in response.content.decode()


def test_a_run_without_notifications_has_an_empty_list(service, catalogue):
    run = make_run(catalogue["hello"])
    assert service("viewer").get(f"/api/runs/{run.identifier}/notifications").json() == []


def test_an_unknown_run_is_a_json_404_and_a_token_is_needed(service, catalogue):
    response = service("viewer").get("/api/runs/nosuchrun/notifications")
    assert response.status_code == 404 and "error" in response.json()
    run = make_run(catalogue["hello"])
    assert service(None).get(f"/api/runs/{run.identifier}/notifications").status_code == 401


def test_a_job_says_who_is_told_when_its_runs_end(service, catalogue):
    catalogue["project"].notifications = [{"kind": "email", "to": ["a@example.com"], "on": "all"}]
    catalogue["project"].save()
    catalogue["hello"].notifications = [{"kind": "webhook", "url": HOOK, "secret_variable": "HOOK_SECRET",
                                         "on": "changes"}]
    catalogue["hello"].save()
    response = service("viewer").get("/api/projects/examples/jobs/hello")
    assert response.json()["notifications"] == [
        {"declared_by": "project", "kind": "email", "to": "a@example.com", "on": "all"},
        {"declared_by": "job", "kind": "webhook", "to": "https://hooks.example.com:8443/…", "on": "changes"},
    ]
    assert "XXXXXXXX" not in response.content.decode() and "HOOK_SECRET" not in response.content.decode()
    [echo] = [job for job in service("viewer").get("/api/jobs").json()["results"] if job["identifier"] == "echo"]
    assert echo["notifications"] == [
        {"declared_by": "project", "kind": "email", "to": "a@example.com", "on": "all"}]
