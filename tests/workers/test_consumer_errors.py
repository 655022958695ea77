"""The master's worker endpoint: a message it cannot use is answered with an error that says
why, quoting the worker briefly, and the connection stays."""

import pytest

from runs.models import Status
from tests.workers.master_endpoint import (
    answer_offer, connect, hello, reload, request, trigger, wait_for, worker_user,
)

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("frame", [
    "[" * 100_000 + "]" * 100_000,
    '{"type": "hello", "id": 1, "properties": ' + "[" * 100_000 + "]" * 100_000 + "}",
])
async def test_a_deeply_nested_frame_is_an_error_and_the_connection_stays(frame):
    communicator = await connect(await worker_user())
    await communicator.send_to(text_data=frame)
    answer = await communicator.receive_json_from(timeout=5)
    assert answer == {"type": "error", "id": None, "error": "malformed JSON: nested too deeply"}
    await hello(communicator)
    await communicator.disconnect()


@pytest.mark.parametrize("request_id", [None, [1], {"a": 1}, 1.5, True, 2**64, "i" * 101, "\ud800"])
async def test_a_request_without_a_usable_id_is_an_error_naming_the_id(request_id):
    communicator = await connect(await worker_user())
    answer = await request(communicator, {"type": "hello", "id": request_id, "identifier": "w1"})
    assert answer == {"type": "error", "id": None, "error": "a 'hello' request needs an 'id': "
                      "a whole number or a text of at most 100 characters"}
    await hello(communicator)
    await communicator.disconnect()


@pytest.mark.parametrize("kind", ["response", "error"])
@pytest.mark.parametrize("request_id", [[1], {"a": 1}, None, 12345, "x" * 200_000])
async def test_an_answer_to_no_request_of_the_masters_is_an_error(kind, request_id):
    communicator = await connect(await worker_user())
    await hello(communicator)
    run = await trigger()
    offer = await communicator.receive_json_from(timeout=5)  # awaiting its answer
    answer = await request(communicator, {"type": kind, "id": request_id, "error": [[["deep"]]]})
    assert answer["type"] == "error" and answer["id"] is None
    assert answer["error"].startswith("answer to unknown request") and len(answer["error"]) < 300
    await communicator.send_json_to({"type": "response", "id": offer["id"]})
    assert (await wait_for(run, lambda run: run.status == Status.RUNNING)).worker.identifier == "w1"
    await communicator.disconnect()


async def test_what_a_worker_sent_is_quoted_in_errors_no_longer_than_a_few_hundred_characters():
    communicator = await connect(await worker_user())
    answer = await request(communicator, {"type": "t" * 500_000, "id": 1})
    assert answer["type"] == "error" and answer["id"] == 1
    assert answer["error"].startswith("unknown message type 'ttt") and len(answer["error"]) < 300
    await hello(communicator)
    run = await trigger()
    await answer_offer(communicator)
    state = {"status": "running", "results": {"k" * 500_000: float("nan")}}
    answer = await request(communicator, {"type": "state", "id": 2, "run": run.identifier, "state": state})
    assert answer["type"] == "error" and answer["final"] is True and len(answer["error"]) < 2000
    assert len((await reload(run)).status_message) <= 10_000
    await communicator.disconnect()
