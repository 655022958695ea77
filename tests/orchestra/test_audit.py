"""Every state change made by a person or a token leaves exactly one record, naming who."""

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError
from django.test import Client

from orchestra.models import AuditEvent, Token
from tests.orchestra.audit_failure import (  # noqa: F401 (fixture)
    audit_records_refused, audit_refused, refusal,
)
from tests.api.conftest import make_run
from runs.models import Status

pytestmark = pytest.mark.database


def only_record(action: str) -> AuditEvent:
    records = list(AuditEvent.objects.all())
    assert [record.action for record in records] == [action]
    return records[0]


def web(users, role: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {users[role][1]}"}, REMOTE_ADDR="10.2.3.4")


@pytest.mark.parametrize(
    "role, method, path, body, action, target",
    [
        ("operator", "post", "/api/projects/examples/jobs/hello/trigger", {}, "run.trigger", None),
        ("administrator", "post", "/api/projects/examples/jobs/hello/disable", {}, "job.disable", "examples/hello"),
        ("administrator", "post", "/api/projects/examples/schedules/hello-hourly/disable", {}, "schedule.disable", "examples/hello-hourly"),
        ("administrator", "post", "/api/workers/worker-1/disable", {}, "worker.disable", "worker-1"),
        ("administrator", "post", "/api/users/viewer-user/disable", {}, "user.disable", "viewer-user"),
        ("administrator", "put", "/api/users/viewer-user/roles", {"roles": ["viewer", "operator"]}, "user.roles", "viewer-user"),
        ("administrator", "post", "/api/users", {"username": "newcomer", "roles": ["viewer"]}, "user.create", "newcomer"),
        ("administrator", "delete", "/api/users/viewer-user", None, "user.delete", "viewer-user"),
        ("viewer", "post", "/api/tokens", {"description": "laptop"}, "token.create", "viewer-user"),
    ],
)
def test_each_service_change_is_audited_once(service, users, catalogue, role, method, path, body, action, target):
    client = service(role)
    response = client.delete(path) if method == "delete" else getattr(client, method)(path, body)
    assert response.status_code in (200, 201, 204), response.content
    record = only_record(action)
    assert record.actor == users[role][0] and record.actor_name == f"{role}-user"
    assert record.address == "127.0.0.1"
    if target:
        assert record.target == target


def test_enabling_again_is_audited_and_a_no_op_change_is_not(service, users, catalogue):
    admin = service("administrator")
    admin.post("/api/projects/examples/jobs/hello/enable")  # already enabled: no change
    assert AuditEvent.objects.count() == 0
    admin.post("/api/projects/examples/jobs/hello/disable")
    admin.post("/api/projects/examples/jobs/hello/enable")
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "job.disable", "job.enable"
    ]


def test_abort_is_audited_once(service, users, catalogue):
    run = make_run(catalogue["hello"], status=Status.PENDING)
    assert service("operator").post(f"/api/runs/{run.identifier}/abort").status_code == 200
    record = only_record("run.abort")
    assert record.actor == users["operator"][0] and record.target == run.identifier
    # Aborting an ended run changes nothing and records nothing.
    service("operator").post(f"/api/runs/{run.identifier}/abort")
    assert AuditEvent.objects.count() == 1


def test_token_revocation_is_audited_once(service, users):
    token = Token.objects.get(user=users["viewer"][0])
    assert service("viewer").delete(f"/api/tokens/{token.pk}").status_code == 204
    record = only_record("token.revoke")
    assert record.actor == users["viewer"][0]


def test_website_token_creation_and_revocation_are_audited(users):
    client = web(users, "operator")
    response = client.post("/me/", {"description": "ci"})
    assert response.status_code == 200
    record = only_record("token.create")
    assert record.actor == users["operator"][0] and record.address == "10.2.3.4"
    token = Token.objects.get(user=users["operator"][0], description="ci")
    client.post(f"/me/tokens/{token.pk}/revoke/")
    assert AuditEvent.objects.filter(action="token.revoke", actor=users["operator"][0]).count() == 1


def test_website_user_changes_are_audited(users):
    client = web(users, "administrator")
    client.post("/users/create/", {"username": "fresh", "password": "a long password 1", "roles": ["viewer"]})
    client.post("/users/fresh/roles/", {"roles": ["viewer", "auditor"]})
    client.post("/users/fresh/disable/")
    client.post("/users/fresh/enable/")
    client.post("/users/fresh/delete/")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor_name", "target"))
    assert actions == [
        ("user.create", "administrator-user", "fresh"),
        ("user.roles", "administrator-user", "fresh"),
        ("user.disable", "administrator-user", "fresh"),
        ("user.enable", "administrator-user", "fresh"),
        ("user.delete", "administrator-user", "fresh"),
    ]
    assert not User.objects.filter(username="fresh").exists()


def test_system_changes_are_not_attributed_to_anyone(catalogue):
    from orchestra.audit import SYSTEM
    from runs.actions import do_trigger_run

    do_trigger_run(catalogue["hello"], {}, SYSTEM)
    assert AuditEvent.objects.count() == 0


def test_admin_user_changes_are_audited_once(users):
    admin = Client(headers={"Authorization": f"Bearer {users['administrator'][1]}"})
    viewer = users["viewer"][0]
    response = admin.post(f"/admin/auth/user/{viewer.pk}/change/", {
        "username": "viewer-user", "first_name": "Vera", "last_name": "", "email": "",
        "is_active": "on", "groups": [], "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00",
    })
    assert response.status_code == 302, response.content.decode()[-2000:]
    # The roles are changed by do_set_user_roles, which records them; the rest is a user.change.
    change, roles = AuditEvent.objects.order_by("id")
    assert (change.action, roles.action) == ("user.change", "user.roles")
    assert change.actor == roles.actor == users["administrator"][0]
    assert change.target == roles.target == "viewer-user"
    assert "first_name" in change.details["fields"] and "groups" not in change.details["fields"]
    assert roles.details == {"before": ["viewer"], "after": []}
    admin.post(f"/admin/auth/user/{viewer.pk}/delete/", {"post": "yes"})
    assert AuditEvent.objects.filter(action="user.delete", target="viewer-user").count() == 1


def test_an_admin_bulk_delete_whose_audit_records_fail_deletes_nothing(users, audit_refused):
    admin = Client(headers={"Authorization": f"Bearer {users['administrator'][1]}"})
    selected = [Token.objects.get(user=users[role][0]).pk for role in ("viewer", "operator")]
    data = {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    with refusal("audit refused"):
        admin.post("/admin/orchestra/token/", data)
    assert Token.objects.filter(pk__in=selected).count() == 2


def test_an_admin_bulk_delete_of_users_is_all_or_nothing(users, transactional_db):
    admin = Client(headers={"Authorization": f"Bearer {users['administrator'][1]}"})
    selected = [users[role][0].pk for role in ("operator", "viewer")]
    data = {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    # Users are deleted in name order: the operator is, then the viewer's record fails.
    with audit_records_refused(target="viewer-user"):
        with refusal("audit refused"):
            admin.post("/admin/auth/user/", data)
    assert User.objects.filter(pk__in=selected).count() == 2
