"""The worker endpoint refuses every connection that is not a live worker token's, saying why."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, User

from orchestra.asgi import application
from orchestra.models import Token, hash_token
from orchestra.tokens import create_token, revoke_token
from workers.models import Worker

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def user_token(name: str, *roles: str, active: bool = True) -> str:
    user = User.objects.create_user(name, is_active=active)
    user.groups.set(Group.objects.filter(name__in=roles))
    return create_token(user)[1]


async def open_connection(headers) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/master/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def refusal(communicator, hello_identifier: str | None = None) -> dict:
    """The refusal message, after checking the connection is then closed with its code."""
    if hello_identifier is not None:
        await communicator.send_json_to(
            {"type": "hello", "id": 1, "identifier": hello_identifier, "executors": 1}
        )
        answer = await communicator.receive_json_from(timeout=5)
        assert answer["type"] == "error"
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "refused"
    closed = await communicator.receive_output(timeout=5)
    assert closed["type"] == "websocket.close" and closed["code"] == message["code"]
    return message


def bearer(value: str) -> list:
    return [(b"authorization", f"Bearer {value}".encode())]


async def test_no_token_is_refused():
    message = await refusal(await open_connection([]))
    assert message["code"] == 4001 and "token" in message["reason"]


async def test_a_bad_token_is_refused():
    message = await refusal(await open_connection(bearer("0" * 64)))
    assert message["code"] == 4001


async def test_a_revoked_token_is_refused():
    value = await user_token("revoked-worker", "worker")
    await database_sync_to_async(lambda: revoke_token(Token.objects.get(digest=hash_token(value))))()
    assert (await refusal(await open_connection(bearer(value))))["code"] == 4001


@pytest.mark.parametrize("role", ["viewer", "operator", "administrator"])
async def test_a_token_without_the_worker_role_is_refused(role):
    value = await user_token(f"{role}-person", role)
    message = await refusal(await open_connection(bearer(value)))
    assert message["code"] == 4002 and "worker" in message["reason"]


async def test_a_disabled_users_token_is_refused():
    value = await user_token("retired", "worker", active=False)
    assert (await refusal(await open_connection(bearer(value))))["code"] == 4001


async def test_a_disabled_worker_is_refused():
    value = await user_token("builder", "worker")
    owner = await database_sync_to_async(User.objects.get)(username="builder")
    await database_sync_to_async(Worker.objects.create)(
        identifier="old-box", owner=owner, is_enabled=False
    )
    message = await refusal(await open_connection(bearer(value)), hello_identifier="old-box")
    assert message["code"] == 4004 and "disabled" in message["reason"]


async def test_an_identifier_owned_by_another_user_is_refused():
    await user_token("first-owner", "worker")
    owner = await database_sync_to_async(User.objects.get)(username="first-owner")
    await database_sync_to_async(Worker.objects.create)(identifier="shared", owner=owner)
    value = await user_token("second-owner", "worker")
    message = await refusal(await open_connection(bearer(value)), hello_identifier="shared")
    assert message["code"] == 4003 and "another user" in message["reason"]


async def test_a_session_token_is_refused():
    """Session tokens are the website's cookie; a worker connects with an API token."""

    @database_sync_to_async
    def session_token() -> str:
        user = User.objects.create_user("session-worker")
        user.groups.set(Group.objects.filter(name="worker"))
        return create_token(user, kind=Token.Kind.SESSION)[1]

    message = await refusal(await open_connection(bearer(await session_token())))
    assert message["code"] == 4001
