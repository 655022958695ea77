"""Runs in the Django admin: readable, changed only through the audited actions."""

import pytest
from django.test import Client

from orchestra.extensions import log_store
from orchestra.models import AuditEvent
from orchestra.tokens import create_token
from runs.models import Run, Status
from tests.api.conftest import catalogue, fast_password_hashing, make_run, users  # noqa: F401

pytestmark = pytest.mark.database


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


def test_django_admins_own_deletion_is_refused(catalogue, users):
    run = make_run(catalogue["hello"], status=Status.SUCCEEDED)
    client = admin_client(users["administrator"][0])
    assert client.get(f"/admin/runs/run/{run.pk}/delete/").status_code == 403
    response = client.post(
        "/admin/runs/run/", {"action": "delete_selected", "_selected_action": [run.pk]}
    )
    assert Run.objects.filter(pk=run.pk).exists()
    assert response.status_code in (200, 302)


def test_deleting_runs_from_the_admin_removes_their_logs_and_is_audited(
    catalogue, users, django_capture_on_commit_callbacks
):
    store = log_store()
    pipeline = make_run(catalogue["hello"], status=Status.FAILED)
    element = make_run(catalogue["hello"], status=Status.FAILED, parent=pipeline)
    running = make_run(catalogue["hello"], status=Status.RUNNING, worker=catalogue["worker"])
    lone_element = make_run(catalogue["hello"], status=Status.SUCCEEDED, parent=running)
    for run in (pipeline, element, running, lone_element):
        store.append(run.identifier, 0, 0, f"log of {run.identifier}\n".encode())
    client = admin_client(users["administrator"][0])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/runs/run/", {
            "action": "delete_with_logs",
            "_selected_action": [pipeline.pk, running.pk, lone_element.pk],
        })

    assert response.status_code == 302
    assert Run.objects.filter(pk__in=[running.pk, lone_element.pk]).count() == 2
    assert not Run.objects.filter(pk__in=[pipeline.pk, element.pk]).exists()
    assert [store.read(run.identifier, 0) for run in (pipeline, element)] == [b"", b""]
    assert store.read(running.identifier, 0) == f"log of {running.identifier}\n".encode()
    assert store.read(lone_element.identifier, 0) == f"log of {lone_element.identifier}\n".encode()
    events = AuditEvent.objects.filter(action="run.delete")
    assert [(event.target, event.actor_name, event.details["chain"]) for event in events] == [
        (pipeline.identifier, "administrator-user", [element.identifier])
    ]
