"""Async views read the request's user with Django's `await request.auser()`, from the same token."""

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.http import JsonResponse
from django.test import AsyncClient
from django.urls import path

from orchestra.models import Token
from orchestra.tokens import create_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]


async def who_am_i(request):
    user = await request.auser()
    return JsonResponse({"username": user.get_username(), "authenticated": user.is_authenticated})


urlpatterns = [path("who-am-i/", who_am_i)]


@sync_to_async
def user_with_token(username: str, kind: str) -> str:
    return create_token(User.objects.create_user(username), kind=kind)[1]


async def test_an_async_view_gets_the_bearer_tokens_user():
    value = await user_with_token("ann", Token.Kind.API)
    response = await AsyncClient().get("/who-am-i/", headers={"Authorization": f"Bearer {value}"})
    assert response.json() == {"username": "ann", "authenticated": True}


async def test_an_async_view_gets_the_session_cookies_user():
    value = await user_with_token("bob", Token.Kind.SESSION)
    client = AsyncClient()
    client.cookies[settings.SESSION_COOKIE_NAME] = value
    response = await client.get("/who-am-i/")
    assert response.json() == {"username": "bob", "authenticated": True}


async def test_an_async_view_without_a_valid_token_gets_an_anonymous_user():
    await user_with_token("cid", Token.Kind.API)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await AsyncClient().get("/who-am-i/", headers=headers)
        assert response.json() == {"username": "", "authenticated": False}
