"""The master's worker endpoint: a worker says hello with an identifier that belongs to its
user, one connection a worker, as long as its token and its liveness hold."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from orchestra.asgi import application
from orchestra.audit import SYSTEM
from runs.actions import do_abort_run
from tests.workers.master_endpoint import (
    answer_offer, connect, hello, request, trigger, worker_user,
)
from workers.models import Worker

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]


async def test_a_worker_identifier_belongs_to_its_first_user():
    await hello(await connect(await worker_user("first")), identifier="shared")
    intruder = await connect(await worker_user("second"))
    await intruder.send_json_to({"type": "hello", "id": 1, "identifier": "shared", "executors": 1})
    assert "another user" in (await intruder.receive_json_from(timeout=5))["error"]
    refusal = await intruder.receive_json_from(timeout=5)
    assert refusal == {"type": "refused", "code": 4003,
                       "reason": "worker identifier 'shared' belongs to another user"}
    assert (await intruder.receive_output(timeout=5))["type"] == "websocket.close"


@pytest.mark.parametrize("runs", [5, "r", [5], [["r"]], ["r" * 33], ["\ud800"]])
async def test_a_hello_whose_runs_are_not_run_identifiers_is_an_error_naming_them(runs):
    communicator = await connect(await worker_user())
    answer = await request(communicator, {"type": "hello", "id": 1, "identifier": "w1",
                                          "executors": 1, "properties": {}, "runs": runs})
    assert answer["type"] == "error" and "field 'runs" in answer["error"], answer
    await hello(communicator)
    await communicator.disconnect()


async def test_a_hello_whose_answer_would_be_too_large_for_a_message_is_refused_with_4006():
    communicator = await connect(await worker_user())
    # Runs the master does not know: each is answered {"drop": ...}, more bytes than reported.
    runs = [f"{number:032x}" for number in range(20_000)]
    await communicator.send_json_to({"type": "hello", "id": 1, "identifier": "w1", "executors": 1,
                                     "properties": {}, "runs": runs})
    answer = await communicator.receive_json_from(timeout=30)
    assert answer["type"] == "error" and answer["id"] == 1, str(answer)[:200]
    assert "more than the 1048576 bytes a message may hold" in answer["error"]
    refusal = await communicator.receive_json_from(timeout=5)
    assert (refusal["type"], refusal["code"]) == ("refused", 4006)
    assert "reports more runs than one message can answer" in refusal["reason"]
    closed = await communicator.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 4006)


async def test_a_newer_connection_of_the_same_worker_replaces_the_older_with_4005():
    token = await worker_user()
    older = await connect(token)
    await hello(older)
    newer = await connect(token)
    await hello(newer)
    assert (await older.receive_json_from(timeout=5)) == {
        "type": "refused", "code": 4005, "reason": "replaced by a newer connection"}
    closed = await older.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 4005)
    run = await trigger()
    assert (await answer_offer(newer))["run"]["identifier"] == run.identifier
    worker = await database_sync_to_async(Worker.objects.get)(identifier="w1")
    assert worker.is_connected
    await newer.disconnect()


async def test_a_connection_ends_once_its_token_is_revoked(settings):
    settings.WORKER_INACTIVE_AFTER = 3  # keep-alive checks every second
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    await communicator.receive_nothing(timeout=1.5)  # still authorised: nothing happens

    @database_sync_to_async
    def revoke():
        from orchestra.models import Token
        from orchestra.tokens import revoke_token

        revoke_token(Token.objects.get())

    await revoke()
    refusal = await communicator.receive_json_from(timeout=5)
    assert refusal["type"] == "refused" and refusal["code"] == 4001
    assert (await communicator.receive_output(timeout=5))["type"] == "websocket.close"


async def test_a_refused_connection_answers_nothing_more_until_it_is_closed():
    communicator = WebsocketCommunicator(
        application, "/ws/master/", headers=[(b"authorization", b"Bearer " + b"0" * 64)]
    )
    assert (await communicator.connect())[0]
    for request_id in range(3):
        await communicator.send_json_to({"type": "hello", "id": request_id, "identifier": "w1"})
    refusal = await communicator.receive_json_from(timeout=5)
    assert (refusal["type"], refusal["code"]) == ("refused", 4001)
    closed = await communicator.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 4001)
    await communicator.send_json_to({"type": "hello", "id": 4, "identifier": "w1"})
    assert await communicator.receive_nothing(timeout=0.3)


async def test_a_live_connection_takes_its_worker_back_after_a_liveness_sweep_cut_it_off(settings):
    settings.WORKER_INACTIVE_AFTER = 3  # keep-alive every second
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    run = await trigger()
    await answer_offer(communicator)

    @database_sync_to_async
    def sweep_with_a_late_refresh():
        from workers.background import mark_silent_workers_disconnected

        Worker.objects.update(last_seen=timezone.now() - timedelta(seconds=10))
        assert mark_silent_workers_disconnected() == 1

    await sweep_with_a_late_refresh()
    worker = await database_sync_to_async(Worker.objects.get)(identifier="w1")
    assert not worker.is_connected and worker.channel_name == ""
    deadline = asyncio.get_running_loop().time() + 5
    while not worker.is_connected:
        assert asyncio.get_running_loop().time() < deadline, "the connection never took its row back"
        await asyncio.sleep(0.05)
        worker = await database_sync_to_async(Worker.objects.get)(identifier="w1")
    assert worker.channel_name != ""
    # So an abort reaches it again.
    await database_sync_to_async(do_abort_run)(run, SYSTEM)
    abort = await communicator.receive_json_from(timeout=5)
    assert abort["type"] == "run.abort" and abort["run"] == run.identifier
    await communicator.disconnect()
