"""The profile, users and audit pages."""

import re

from django.contrib.auth.models import User
from django.test import Client

from orchestra.models import AuditEvent, Token, hash_token


def page(users, role: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {users[role][1]}"})


def test_profile_creates_a_token_shown_once_and_lists_tokens_without_values(users):
    client = page(users, "viewer")
    response = client.post("/me/", {"description": "my laptop"})
    assert response.status_code == 200
    value = re.search(r'<code id="new-token">([0-9a-f]{64})</code>', response.content.decode())[1]
    token = Token.objects.get(digest=hash_token(value))
    assert token.description == "my laptop" and token.user == users["viewer"][0]
    assert "no-store" in response["Cache-Control"]
    listing = client.get("/me/").content.decode()
    assert "my laptop" in listing and value not in listing
    assert "never" in listing or "last" in listing.lower()


def test_profile_revokes_only_own_tokens(users):
    client = page(users, "viewer")
    own = Token.objects.create(user=users["viewer"][0], digest="a" * 64, description="old")
    other = Token.objects.get(user=users["operator"][0])
    assert client.post(f"/me/tokens/{own.pk}/revoke/").status_code == 302
    own.refresh_from_db()
    assert own.revoked is not None
    assert client.post(f"/me/tokens/{other.pk}/revoke/").status_code == 404
    other.refresh_from_db()
    assert other.revoked is None


def test_administrators_see_user_forms_and_auditors_read_only(users):
    admin_page = page(users, "administrator").get("/users/").content.decode()
    assert 'action="/users/create/"' in admin_page and "viewer-user" in admin_page
    auditor_page = page(users, "auditor").get("/users/").content.decode()
    assert "viewer-user" in auditor_page and "/users/create/" not in auditor_page
    detail = page(users, "auditor").get("/users/worker-user/").content.decode()
    assert "worker-user test token" in detail and "Disable" not in detail and "Revoke" not in detail
    assert page(users, "auditor").post("/users/viewer-user/disable/").status_code == 403
    assert page(users, "operator").get("/users/").status_code == 403


def test_users_list_filters_and_sorts(users):
    client = page(users, "administrator")
    filtered = client.get("/users/", {"role": "worker"}).content.decode()
    assert "worker-user" in filtered and "viewer-user" not in filtered
    ordered = client.get("/users/", {"ordering": "-username"}).content.decode().split("<tbody>")[1]
    assert ordered.index("worker-user") < ordered.index("administrator-user")


def test_administrators_create_users_with_several_roles(users):
    client = page(users, "administrator")
    response = client.post(
        "/users/create/",
        {"username": "ana", "password": "a long enough password", "roles": ["operator", "auditor"]},
    )
    assert response.status_code == 302 and response["Location"] == "/users/ana/"
    ana = User.objects.get(username="ana")
    assert sorted(ana.groups.values_list("name", flat=True)) == ["auditor", "operator"]
    assert ana.check_password("a long enough password")
    refused = client.post("/users/create/", {"username": "ana"})
    assert refused.status_code == 400 and "exists" in refused.content.decode()


def test_administrators_disable_change_roles_and_delete_users(users):
    client = page(users, "administrator")
    client.post("/users/viewer-user/disable/")
    viewer_token = users["viewer"][1]
    assert Client().get("/api/runs", headers={"Authorization": f"Bearer {viewer_token}"}).status_code == 401
    client.post("/users/viewer-user/enable/")
    client.post("/users/viewer-user/roles/", {"roles": ["viewer", "operator"]})
    assert sorted(User.objects.get(username="viewer-user").groups.values_list("name", flat=True)) == [
        "operator", "viewer"
    ]
    client.post("/users/viewer-user/delete/")
    assert not User.objects.filter(username="viewer-user").exists()


def test_administrators_revoke_a_users_token(users):
    token = Token.objects.get(user=users["worker"][0])
    page(users, "administrator").post(f"/users/worker-user/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked is not None


def test_audit_page_filters_and_escapes(users):
    AuditEvent.objects.create(actor_name="<script>alert(1)</script>", action="login.failed", target="<b>x</b>")
    AuditEvent.objects.create(actor_name="administrator-user", action="user.create", target="bob")
    content = page(users, "auditor").get("/audit/").content.decode()
    assert "<script>alert(1)</script>" not in content and "&lt;script&gt;" in content
    assert "<b>x</b>" not in content
    filtered = page(users, "administrator").get("/audit/", {"action": "user."}).content.decode()
    assert "bob" in filtered and "login.failed" not in filtered
    assert page(users, "operator").get("/audit/").status_code == 403


def test_security_headers_on_every_kind_of_response(users):
    for response in (Client().get("/login/"), page(users, "viewer").get("/api/runs"), Client().get("/api/runs")):
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "'unsafe-inline'" not in policy and "default-src 'self'" in policy
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_login_page_uses_no_inline_script_or_style(db):
    content = Client().get("/login/").content.decode()
    assert "<script>" not in content and "style=" not in content and "<style" not in content


def test_changing_the_password_ends_other_sessions(users):
    from django.conf import settings

    from orchestra.tokens import create_token

    user = users["viewer"][0]
    _, other_session = create_token(user, kind=Token.Kind.SESSION)
    _, this_session = create_token(user, kind=Token.Kind.SESSION)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = this_session
    assert "this browser" in client.get("/me/").content.decode()
    refused = client.post("/me/password/", {
        "old_password": "wrong", "new_password1": "a new long password", "new_password2": "a new long password",
    })
    assert refused.status_code == 400
    response = client.post("/me/password/", {
        "old_password": "correct horse battery", "new_password1": "a new long password",
        "new_password2": "a new long password",
    })
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a new long password")
    assert client.get("/me/").status_code == 200
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = other_session
    assert stale.get("/me/").status_code == 302
    assert AuditEvent.objects.filter(action="user.password", actor=user).count() == 1


def test_administrators_cannot_lock_themselves_out(users, service):
    admin = users["administrator"][0]
    client = page(users, "administrator")
    for path, data, reason in (
        ("disable/", {}, "You cannot disable or delete your own account."),
        ("delete/", {}, "You cannot disable or delete your own account."),
        ("roles/", {"roles": ["viewer"]}, "You cannot take the administrator role from yourself."),
    ):
        response = client.post(f"/users/administrator-user/{path}", data)
        assert response.status_code == 302 and response["Location"] == "/users/administrator-user/"
        assert reason in client.get(response["Location"]).content.decode()
    admin.refresh_from_db()
    assert admin.is_active and list(admin.groups.values_list("name", flat=True)) == ["administrator"]
    api = service("administrator")
    assert api.post("/api/users/administrator-user/disable").status_code == 409
    assert api.delete("/api/users/administrator-user").status_code == 409
    refused = api.put("/api/users/administrator-user/roles", {"roles": ["viewer"]})
    assert refused.status_code == 409 and "yourself" in refused.json()["error"]
    assert api.put("/api/users/administrator-user/roles", {"roles": ["administrator", "worker"]}).status_code == 200
    assert AuditEvent.objects.filter(action__in=["user.disable", "user.delete"]).count() == 0
