"""A worker's hello: its identifier, properties, version and executors follow the rules every
entry uses (orchestra.values), or the worker is refused for good (4007) and nothing is stored;
an identifier whose owner was deleted can be taken by a worker-role user."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group, User
from django.test import Client

from orchestra.audit import Actor
from orchestra.actions import do_delete_user
from orchestra.models import AuditEvent
from orchestra.tokens import create_token
from tests.workers.master_endpoint import connect, hello, worker_user
from workers.models import Worker

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]


async def refused_hello(communicator, **fields) -> tuple[dict, dict]:
    """The error answering a hello, and the refusal that follows; the connection then closes."""
    await communicator.send_json_to({
        "type": "hello", "id": 1, "identifier": "w1", "executors": 1, "properties": {},
        "version": "test", "runs": [], **fields,
    })
    error = await communicator.receive_json_from(timeout=5)
    refusal = await communicator.receive_json_from(timeout=5)
    closed = await communicator.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 4007)
    return error, refusal


@pytest.mark.parametrize(
    "identifier",
    ["a/b", "<script>", "   ", "a\x00b", "bell\x07", "", "x" * 101, "abc\n", "caf\u00e9", 5, None],
)
async def test_an_identifier_outside_the_rule_is_refused_for_good(identifier):
    error, refusal = await refused_hello(await connect(await worker_user()), identifier=identifier)
    assert error["type"] == "error" and "is not an identifier" in error["error"]
    assert refusal["code"] == 4007 and "identifier" in refusal["reason"]
    assert not await database_sync_to_async(Worker.objects.exists)()


@pytest.mark.parametrize(
    "properties, message",
    [
        ({"pool": "x" * 900_000}, "must be at most 1000 characters"),
        ({"pool": "a\ud800"}, "lone surrogate"),
        ({"pool": "a\x00"}, "NUL"),
        ({"pool": "two\nlines"}, "one line"),
        ({"n" * 101: "v"}, "must be at most 100 characters"),
        ({f"p{index}": "v" for index in range(51)}, "more than the 50 allowed"),
        ({"cores": 4}, "must be text"),
        (["pool"], "must be an object"),
    ],
)
async def test_properties_outside_the_rule_are_refused(properties, message):
    error, refusal = await refused_hello(await connect(await worker_user()), properties=properties)
    assert message in error["error"] and "properties" in error["error"]
    assert refusal["code"] == 4007
    assert not await database_sync_to_async(Worker.objects.exists)()


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"version": "v\ud800"}, "version"),
        ({"version": "v" * 51}, "version"),
        ({"version": 3}, "version"),
        ({"executors": 0}, "executors"),
        ({"executors": 10**12}, "executors"),
        ({"executors": True}, "executors"),
    ],
)
async def test_version_and_executors_outside_the_rule_are_refused(fields, message):
    error, _ = await refused_hello(await connect(await worker_user()), **fields)
    assert message in error["error"]
    assert not await database_sync_to_async(Worker.objects.exists)()


async def test_a_valid_hello_is_stored_as_sent():
    communicator = await connect(await worker_user())
    await communicator.send_json_to({
        "type": "hello", "id": 1, "identifier": "build-1_a", "executors": 3, "version": "1.2",
        "properties": {"os": "linux", "labels": "gpu, large disk", "note": "caf\u00e9"},
        "runs": [],
    })
    assert (await communicator.receive_json_from(timeout=5))["type"] == "response"
    worker = await database_sync_to_async(Worker.objects.get)()
    assert (worker.identifier, worker.executors, worker.version) == ("build-1_a", 3, "1.2")
    assert worker.properties == {"os": "linux", "labels": "gpu, large disk", "note": "caf\u00e9"}
    await communicator.disconnect()


# An identifier whose owner was deleted --------------------------------------------------------


@database_sync_to_async
def delete_user(name: str) -> None:
    do_delete_user(User.objects.get(username=name), Actor(user=None))


async def test_an_ownerless_worker_is_taken_by_the_next_worker_role_user():
    first = await connect(await worker_user("first"))
    await hello(first, identifier="local-worker")
    await first.disconnect()
    await delete_user("first")
    assert (await database_sync_to_async(Worker.objects.get)()).owner_id is None

    second = await connect(await worker_user("second"))
    await hello(second, identifier="local-worker")
    worker = await database_sync_to_async(Worker.objects.select_related("owner").get)()
    assert worker.owner.username == "second" and worker.is_connected
    claims = await database_sync_to_async(list)(
        AuditEvent.objects.filter(action="worker.claim").values_list("actor_name", "target")
    )
    assert claims == [("second", "local-worker")]
    await second.disconnect()

    # From then on it is the second user's: a third is refused as before.
    third = await connect(await worker_user("third"))
    await third.send_json_to({"type": "hello", "id": 1, "identifier": "local-worker",
                              "executors": 1})
    assert "another user" in (await third.receive_json_from(timeout=5))["error"]
    assert (await third.receive_json_from(timeout=5))["code"] == 4003
