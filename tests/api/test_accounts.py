"""Service routes of users, tokens and the audit log."""

import pytest

from orchestra.models import AuditEvent, Token, hash_token


def usernames(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [user["username"] for user in response.json()["results"]]


def test_me(service, users):
    data = service("operator").get("/api/me").json()
    assert data["username"] == "operator-user" and data["roles"] == ["operator"]


def test_users_for_administrators_and_auditors(service, users):
    assert "viewer-user" in usernames(service("auditor").get("/api/users"))
    assert usernames(service("administrator").get("/api/users", {"role": "worker"})) == ["worker-user"]
    assert usernames(service("administrator").get("/api/users", {"username": "oper"})) == ["operator-user"]
    assert usernames(service("administrator").get("/api/users", {"ordering": "-username"}))[0] == "worker-user"
    assert service("viewer").get("/api/users").status_code == 403
    assert service("auditor").get("/api/users/viewer-user").json()["roles"] == ["viewer"]


def test_administrators_manage_users(service, users):
    admin = service("administrator")
    response = admin.post("/api/users", {"username": "ci-bot", "roles": ["operator", "viewer"]})
    assert response.status_code == 201 and response.json()["roles"] == ["operator", "viewer"]
    duplicate = admin.post("/api/users", {"username": "ci-bot"})
    assert duplicate.status_code == 400 and duplicate.json()["field"] == "username"
    bad_role = admin.put("/api/users/ci-bot/roles", {"roles": ["emperor"]})
    assert bad_role.status_code == 400 and bad_role.json()["field"] == "roles"
    assert admin.put("/api/users/ci-bot/roles", {"roles": ["worker"]}).json()["roles"] == ["worker"]
    assert admin.post("/api/users/ci-bot/disable").json()["is_active"] is False
    assert admin.post("/api/users/ci-bot/enable").json()["is_active"] is True
    assert admin.delete("/api/users/ci-bot").status_code == 204
    assert admin.get("/api/users/ci-bot").status_code == 404
    # Auditors read, never change.
    assert service("auditor").post("/api/users", {"username": "x"}).status_code == 403
    assert service("auditor").delete("/api/users/viewer-user").status_code == 403


def test_own_tokens_create_list_revoke(service, users):
    client = service("viewer")
    created = client.post("/api/tokens", {"description": "laptop"})
    assert created.status_code == 201
    value = created.json()["value"]
    assert Token.objects.get(digest=hash_token(value)).description == "laptop"
    listed = client.get("/api/tokens").json()["results"]
    assert {token["description"] for token in listed} == {"laptop", "viewer-user test token"}
    assert all("value" not in token and "digest" not in token for token in listed)
    new_id = created.json()["id"]
    assert client.delete(f"/api/tokens/{new_id}").status_code == 204
    assert client.get(f"/api/tokens/{new_id}").status_code == 404
    # Nobody revokes someone else's token through their own list.
    other = Token.objects.get(user=users["operator"][0])
    assert client.delete(f"/api/tokens/{other.pk}").status_code == 404


def test_tokens_metadata_of_a_user_for_auditors(service, users):
    data = service("auditor").get("/api/users/worker-user/tokens").json()["results"]
    assert [token["description"] for token in data] == ["worker-user test token"]
    assert service("operator").get("/api/users/worker-user/tokens").status_code == 403


def test_audit_log_filters(service, users, catalogue):
    service("administrator").post("/api/workers/worker-1/disable")
    service("operator").post("/api/projects/examples/jobs/hello/trigger")
    records = service("auditor").get("/api/audit").json()["results"]
    assert [record["action"] for record in records] == ["run.trigger", "worker.disable"]
    only = service("auditor").get("/api/audit", {"actor": "administrator-user"}).json()["results"]
    assert [record["action"] for record in only] == ["worker.disable"]
    by_action = service("administrator").get("/api/audit", {"action": "run."}).json()["results"]
    assert [record["actor"] for record in by_action] == ["operator-user"]
    assert service("operator").get("/api/audit").status_code == 403
    assert AuditEvent.objects.count() == 2


def test_administrators_revoke_another_users_token(service, users):
    token = Token.objects.get(user=users["worker"][0])
    assert service("auditor").delete(f"/api/users/worker-user/tokens/{token.pk}").status_code == 403
    assert service("administrator").delete(f"/api/users/worker-user/tokens/{token.pk}").status_code == 204
    token.refresh_from_db()
    assert token.revoked is not None
    assert service("administrator").delete(f"/api/users/viewer-user/tokens/{token.pk}").status_code == 404


@pytest.mark.parametrize("path, body, field", [
    ("/api/tokens", {"description": 12}, "description"),
    ("/api/tokens", {"description": 1.5}, "description"),
    ("/api/users", {"username": 123, "roles": []}, "username"),
    ("/api/users", {"username": "numbers", "password": 12345678, "roles": []}, "password"),
    ("/api/users", {"username": "numbers", "roles": [1]}, "roles.0"),
    ("/api/users/viewer-user/roles", {"roles": [7]}, "roles.0"),
])
def test_text_fields_of_a_body_take_text_only(service, users, path, body, field):
    """DRF turned a number into text; the schema says text, and so does the service."""
    client = service("administrator")
    response = client.put(path, body) if path.endswith("/roles") else client.post(path, body)
    assert response.status_code == 400 and response.json()["field"] == field, response.content


def test_a_text_field_is_taken_as_sent_and_its_length_counted_so(service, users):
    """DRF trimmed whitespace before counting: 201 characters passed a limit of 200."""
    client = service("viewer")
    assert client.post("/api/tokens", {"description": "\x1c" + "*" * 200}).status_code == 400
    created = client.post("/api/tokens", {"description": " spaced "})
    assert created.status_code == 201 and created.json()["description"] == " spaced "
