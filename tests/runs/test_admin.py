"""Runs in the Django admin: readable, changed only through the audited actions."""

from django.test import Client

from orchestra.models import AuditEvent
from orchestra.tokens import create_token
from runs.models import Run, Status
from tests.api.conftest import catalogue, fast_password_hashing, make_run, users  # noqa: F401


def admin_client(user) -> Client:
    _, value = create_token(user, kind="session")
    client = Client()
    client.cookies["orchestra_session"] = value
    return client


def test_runs_are_read_only_in_the_admin(catalogue, users):
    run = make_run(catalogue["hello"], status=Status.RUNNING, worker=catalogue["worker"])
    client = admin_client(users["administrator"][0])

    assert client.get("/admin/runs/run/").status_code == 200
    assert client.get("/admin/runs/run/add/").status_code == 403
    response = client.post(f"/admin/runs/run/{run.pk}/change/", {"status": "succeeded"})
    assert response.status_code == 403
    assert Run.objects.get(pk=run.pk).status == Status.RUNNING


def test_marking_a_lost_workers_run_exception_from_the_admin_is_audited(catalogue, users):
    running = make_run(catalogue["hello"], status=Status.RUNNING, worker=catalogue["worker"])
    finished = make_run(catalogue["hello"], status=Status.SUCCEEDED)
    client = admin_client(users["administrator"][0])

    response = client.post(
        "/admin/runs/run/",
        {"action": "mark_exception", "_selected_action": [running.pk, finished.pk]},
    )

    assert response.status_code == 302
    assert Run.objects.get(pk=running.pk).status == Status.EXCEPTION
    assert Run.objects.get(pk=finished.pk).status == Status.SUCCEEDED
    events = AuditEvent.objects.filter(target=running.identifier)
    assert [(event.action, event.actor_name) for event in events] == [
        ("run.mark_exception", "administrator-user")
    ]
