import pytest
from datetime import timedelta
from io import StringIO
from unittest import mock

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orchestra.models import Token, hash_token
from orchestra.tokens import authenticate_token, create_token, delete_dead_tokens, revoke_token

pytestmark = pytest.mark.database


def token_writes(queries) -> int:
    """UPDATEs of the tokens' table (SQL), updates of their collection (MongoDB)."""
    return sum(
        1 for query in queries
        if query["sql"].startswith("UPDATE") and connection.ops.quote_name("orchestra_token") in query["sql"]
        or query["sql"].startswith("db.orchestra_token.update")
    )


def at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_only_the_sha256_of_a_token_is_stored(users):
    user = users["viewer"][0]
    token, value = create_token(user, description="ci")
    assert len(value) == 64 and int(value, 16) >= 0  # 32 random bytes as hex
    token.refresh_from_db()
    assert token.digest == hash_token(value)
    row = " ".join(map(str, Token.objects.filter(pk=token.pk).values().get().values()))
    assert value not in row


def test_the_service_accepts_a_bearer_token_and_refuses_a_wrong_one(users):
    value = users["viewer"][1]
    assert Client().get("/api/runs", headers={"Authorization": f"Bearer {value}"}).status_code == 200
    wrong = value[:-1] + ("0" if value[-1] != "0" else "1")
    assert Client().get("/api/runs", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401


def test_a_session_expires_seven_days_after_its_last_refresh(users):
    user = users["viewer"][0]
    start = timezone.now().replace(microsecond=0)  # MongoDB keeps milliseconds
    with at(start):
        token, value = create_token(user, kind=Token.Kind.SESSION)
    assert token.expires == start + timedelta(days=7)
    with at(start + timedelta(days=7, seconds=-1)):
        assert authenticate_token(value, kind=Token.Kind.SESSION) is not None
    with at(start + timedelta(days=7)):
        assert authenticate_token(value, kind=Token.Kind.SESSION) is None


def test_website_activity_refreshes_a_session_at_most_once_a_day(users):
    user = users["viewer"][0]
    start = timezone.now().replace(microsecond=0)  # MongoDB keeps milliseconds
    with at(start):
        token, value = create_token(user, kind=Token.Kind.SESSION)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = value
    with at(start + timedelta(hours=1)), CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert client.get("/me/").status_code == 200
    assert token_writes(queries) == 0
    with at(start + timedelta(days=1, hours=1)), CaptureQueriesContext(connection) as queries:
        responses = [client.get("/me/") for _ in range(5)]
    assert token_writes(queries) == 1
    # The refresh renews the cookie too, once.
    assert sum(settings.SESSION_COOKIE_NAME in r.cookies for r in responses) == 1
    token.refresh_from_db()
    assert token.expires == start + timedelta(days=8, hours=1)
    # Six days later the refreshed session is alive, though eight days passed since login.
    with at(start + timedelta(days=7, hours=2)):
        assert client.get("/me/").status_code == 200


def test_api_token_use_is_recorded_at_most_once_a_day(users):
    value = users["operator"][1]
    headers = {"Authorization": f"Bearer {value}"}
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            Client().get("/api/runs", headers=headers)
    assert token_writes(queries) == 1
    assert Token.objects.get(digest=hash_token(value)).last_used is not None


def test_a_token_is_looked_up_without_ordering_the_tokens(users):
    """One row by its digest: the ORDER BY of `.first()` cost compiling on every request."""
    if connection.vendor == "mongodb":
        pytest.skip("MongoDB's queries are not SQL")
    with CaptureQueriesContext(connection) as queries:
        assert authenticate_token(users["viewer"][1]) is not None
    assert [query["sql"] for query in queries if "ORDER BY" in query["sql"]] == []


def test_a_revoked_token_is_refused(users):
    user, value = users["viewer"]
    revoke_token(Token.objects.get(digest=hash_token(value)))
    assert Client().get("/api/runs", headers={"Authorization": f"Bearer {value}"}).status_code == 401


def test_an_expired_session_is_refused_on_the_website(users):
    user = users["viewer"][0]
    start = timezone.now() - timedelta(days=8)
    with at(start):
        _, value = create_token(user, kind=Token.Kind.SESSION)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = value
    response = client.get("/me/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_api_token_is_not_a_session_cookie(users):
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = users["viewer"][1]  # an API token
    assert client.get("/me/").status_code == 302
    assert client.get("/api/me").status_code == 401


def test_a_session_token_works_only_as_the_cookie(users):
    """A session token in the Authorization header would skip the CSRF check that guards the
    cookie, so a page that read it (or a user tricked into pasting it) could post anything."""
    _, session = create_token(users["administrator"][0], kind=Token.Kind.SESSION)
    header = {"Authorization": f"Bearer {session}"}
    me = Client().get("/api/me", headers=header)
    assert me.status_code == 401 and me.json()["error"]
    trigger = Client().post("/api/users", {"username": "mallory"}, content_type="application/json",
                            headers=header)
    assert trigger.status_code == 401
    assert Client().get("/me/", headers=header).status_code == 302  # the website: to the login page
    cookie = Client()
    cookie.cookies[settings.SESSION_COOKIE_NAME] = session
    assert cookie.get("/api/me").status_code == 200


def test_a_disabled_users_tokens_are_refused(users):
    user, value = users["operator"]
    _, session = create_token(user, kind=Token.Kind.SESSION)
    user.is_active = False
    user.save()
    assert Client().get("/api/runs", headers={"Authorization": f"Bearer {value}"}).status_code == 401
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session
    assert client.get("/me/").status_code == 302


def test_dead_tokens_are_cleaned_up(users):
    user = users["viewer"][0]
    live, _ = create_token(user, kind=Token.Kind.SESSION)
    with at(timezone.now() - timedelta(days=8)):
        expired, _ = create_token(user, kind=Token.Kind.SESSION)
    revoked, _ = create_token(user, description="old")
    revoke_token(revoked)
    assert delete_dead_tokens() == 2
    assert set(Token.objects.filter(user=user).values_list("pk", flat=True)) == {
        live.pk, Token.objects.get(user=user, kind=Token.Kind.API).pk
    }


def test_clean_tokens_command(users):
    revoke_token(Token.objects.get(user=users["viewer"][0]))
    out = StringIO()
    call_command("clean_tokens", stdout=out)
    assert "deleted 1" in out.getvalue()
