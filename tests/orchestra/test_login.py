import pytest
import re
from datetime import timedelta
from unittest import mock

from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from orchestra import throttling
from orchestra.models import AuditEvent, Token, hash_token
from orchestra.tokens import authenticate_token

pytestmark = pytest.mark.database

PASSWORD = "correct horse battery"


def log_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def test_login_page_has_standard_fields(client):
    page = client.get("/login/").content.decode()
    assert 'name="username"' in page and 'name="password"' in page
    assert "csrfmiddlewaretoken" in page


def test_login_sets_a_session_token_cookie_stored_only_as_sha256(users):
    client = Client()
    response = log_in(client, "viewer-user", next="/runs/")
    assert response.status_code == 302 and response["Location"] == "/"
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    value = cookie.value
    assert len(value) == 64
    token = Token.objects.get(user=users["viewer"][0], kind=Token.Kind.SESSION)
    assert token.digest == hash_token(value) != value
    assert not Token.objects.filter(digest=value).exists()
    assert token.expires - token.last_refresh == timedelta(days=7)
    assert client.get("/me/").status_code == 200


def test_login_follows_a_local_next_but_not_a_foreign_one(users):
    response = Client().post(
        "/login/", {"username": "viewer-user", "password": PASSWORD, "next": "/runs/"}
    )
    assert response["Location"] == "/runs/"
    response = Client().post(
        "/login/", {"username": "viewer-user", "password": PASSWORD, "next": "https://evil.test/"}
    )
    assert response["Location"] == "/"


def test_login_cookie_is_secure_over_https(users):
    response = log_in(Client(), "viewer-user", secure=True)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"]


def test_failed_login_does_not_reveal_whether_the_user_exists(users):
    wrong_password = log_in(Client(), "viewer-user", "wrong password")
    no_such_user = log_in(Client(), "nobody-at-all", "wrong password")
    assert wrong_password.status_code == no_such_user.status_code == 200
    def page(response) -> str:
        text = response.content.decode().replace("viewer-user", "").replace("nobody-at-all", "")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)

    assert page(wrong_password) == page(no_such_user)
    assert settings.SESSION_COOKIE_NAME not in wrong_password.cookies


def test_disabled_user_cannot_log_in(users):
    user = users["viewer"][0]
    user.is_active = False
    user.save()
    response = log_in(Client(), "viewer-user")
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_login_is_throttled_per_user_and_recovers_after_the_window(users):
    start = timezone.now()
    with mock.patch.object(throttling, "now", return_value=start):
        for attempt in range(settings.LOGIN_FAILURE_LIMIT):
            assert log_in(Client(), "operator-user", "wrong").status_code == 200
        # Even the right password is refused while throttled, with a clear 429.
        refused = log_in(Client(), "operator-user")
        assert refused.status_code == 429
        assert b"Too many failed logins" in refused.content
        assert refused["Retry-After"] == str(settings.LOGIN_FAILURE_WINDOW)
        assert settings.SESSION_COOKIE_NAME not in refused.cookies
        as_json = log_in(Client(), "operator-user", HTTP_ACCEPT="application/json")
        assert as_json.status_code == 429 and as_json.json()["error"]
        # Another user from another address is not affected.
        other = log_in(Client(REMOTE_ADDR="10.0.0.9"), "viewer-user")
        assert other.status_code == 302
    later = start + timedelta(seconds=settings.LOGIN_FAILURE_WINDOW + 1)
    with mock.patch.object(throttling, "now", return_value=later):
        assert log_in(Client(), "operator-user").status_code == 302


def test_login_is_throttled_per_address(users):
    client = Client(REMOTE_ADDR="10.1.2.3")
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        log_in(client, f"guess-{attempt}", "wrong")
    assert log_in(client, "viewer-user").status_code == 429
    assert log_in(Client(REMOTE_ADDR="10.1.2.4"), "viewer-user").status_code == 302


def test_unknown_user_names_are_throttled_like_real_ones(db):
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        log_in(Client(REMOTE_ADDR=f"10.0.1.{attempt}"), "ghost", "wrong")
    assert log_in(Client(REMOTE_ADDR="10.0.2.1"), "ghost", "wrong").status_code == 429


def test_logout_revokes_the_session_token(users):
    client = Client()
    value = log_in(client, "viewer-user").cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/me/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302
    assert authenticate_token(value, kind=Token.Kind.SESSION) is None
    assert Token.objects.get(digest=hash_token(value)).revoked is not None
    logout = AuditEvent.objects.get(action="logout")
    assert logout.actor == users["viewer"][0]
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = value
    assert replay.get("/me/").status_code == 302  # back to the login page


def test_logout_needs_post(users):
    client = Client()
    log_in(client, "viewer-user")
    assert client.get("/logout/").status_code == 405


def test_forms_are_protected_against_csrf(users):
    client = Client(enforce_csrf_checks=True)
    assert log_in(client, "viewer-user").status_code == 403
    page = client.get("/login/")
    csrf = page.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        "/login/", {"username": "viewer-user", "password": PASSWORD, "csrfmiddlewaretoken": csrf}
    )
    assert response.status_code == 302
    # Logged in by cookie, a form without the CSRF token is refused.
    assert client.post("/me/", {"description": "x"}).status_code == 403


def test_passwords_are_stored_as_pbkdf2_sha256_with_a_million_iterations(db, settings):
    from orchestra import settings as orchestra_settings

    settings.PASSWORD_HASHERS = orchestra_settings.PASSWORD_HASHERS
    user = User.objects.create_user("someone", password=PASSWORD)
    algorithm, iterations, salt, digest = user.password.split("$")
    assert (algorithm, iterations) == ("pbkdf2_sha256", "1000000")
    assert len(salt) >= 16 and PASSWORD not in user.password
    other = User.objects.create_user("someone-else", password=PASSWORD)
    assert other.password.split("$")[2] != salt


def test_login_and_failed_login_are_audited(users):
    log_in(Client(REMOTE_ADDR="10.9.9.9"), "viewer-user", "wrong")
    log_in(Client(REMOTE_ADDR="10.9.9.9"), "viewer-user")
    failed = AuditEvent.objects.get(action="login.failed")
    assert failed.actor is None and failed.actor_name == "viewer-user"
    assert failed.address == "10.9.9.9"
    login = AuditEvent.objects.get(action="login")
    assert login.actor == users["viewer"][0] and login.address == "10.9.9.9"


def test_the_service_checks_csrf_when_a_browser_session_authenticates(users, catalogue):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    csrf = page.cookies[settings.CSRF_COOKIE_NAME].value
    client.post("/login/", {"username": "operator-user", "password": PASSWORD, "csrfmiddlewaretoken": csrf})
    trigger = "/api/projects/examples/jobs/hello/trigger"
    assert client.get("/api/runs").status_code == 200
    forged = client.post(trigger, {}, content_type="application/json")
    assert forged.status_code == 403 and "CSRF" in forged.json()["error"]
    allowed = client.post(trigger, {}, content_type="application/json", headers={"X-CSRFToken": csrf})
    assert allowed.status_code == 201
    # A bearer token is never sent by a browser on its own: no CSRF token needed.
    bearer = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {users['operator'][1]}"})
    assert bearer.post(trigger, {}, content_type="application/json").status_code == 201
