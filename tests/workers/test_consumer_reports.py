"""The master's worker endpoint: what a worker reports of its runs (log chunks, states) is
checked field by field, and what cannot be stored ends the run in exception."""

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from orchestra.audit import SYSTEM
from runs.actions import do_mark_run_exception
from runs.models import Status
from tests.orchestra.audit_failure import (
    MONGODB_REFUSAL, collection_accepts_only, database_refuses,
)
from tests.workers.master_endpoint import (
    answer_offer, chunk, connect, hello, reload, request, trigger, worker_user,
)

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("field, value", [
    ("run", 5), ("run", ["x"]), ("run", None), ("run", "r" * 33), ("run", "nul\x00"),
    ("step", "0"), ("step", -1), ("step", 1.5), ("step", True), ("step", None),
    ("offset", "0"), ("offset", -1), ("offset", 0.5), ("offset", False), ("offset", 2**64),
    ("data", 5), ("data", None), ("data", "%%%"), ("data", ["AA=="]), ("data", "é"),
])
async def test_a_wrongly_typed_log_field_is_an_error_naming_it(field, value):
    communicator = await connect(await worker_user())
    await hello(communicator)
    run = await trigger()
    await answer_offer(communicator)
    message = {**chunk(run, 0, b"kept\n"), field: value}
    answer = await request(communicator, message)
    assert answer["type"] == "error" and answer["id"] == 10 and "retry" not in answer, answer
    assert (f"'{field}'" if field != "step" and field != "offset" else f"{field}:") in answer["error"]
    assert (await request(communicator, chunk(run, 0, b"kept\n")))["offset"] == 5
    await communicator.disconnect()


@pytest.mark.parametrize("state, field", [
    ({"status": "succeeded", "results": {"ratio": float("nan")}}, "state.results.ratio"),
    ({"status": "succeeded", "results": {"big": [float("inf")]}}, "state.results.big[0]"),
    ({"status": "running", "steps": [{"index": 0, "status": "running", "started": 1e20}]},
     "state.steps[0].started"),
    ({"status": "running", "message": "\ud800"}, "state.message"),
    ({"status": "running", "steps": [{"index": 0, "status": "running", "started": 1e300}]},
     "state.steps[0].started"),
    # Wrong types, falsy ones too: none is taken for an empty value.
    (5, "state"),
    ({"status": 5}, "state.status"),
    ({"status": "running", "steps": 5}, "state.steps"),
    ({"status": "running", "steps": 0}, "state.steps"),
    ({"status": "running", "steps": {}}, "state.steps"),
    ({"status": "running", "steps": ["s0"]}, "state.steps[0]"),
    ({"status": "running", "results": []}, "state.results"),
    ({"status": "running", "results": 0}, "state.results"),
    ({"status": "running", "message": 0}, "state.message"),
    ({"status": "running", "message": []}, "state.message"),
    ({"status": "running", "steps": [{"index": "0", "status": "running"}]}, "state.steps[0].index"),
    ({"status": "running", "steps": [{"index": 0, "status": 1}]}, "state.steps[0].status"),
    ({"status": "running", "steps": [{"index": 0, "status": "running", "log_size": False}]},
     "state.steps[0].log_size"),
    ({"status": "running", "steps": [{"index": 0, "status": "running", "log_size": ""}]},
     "state.steps[0].log_size"),
    ({"status": "running", "steps": [{"index": 0, "status": "running", "completed": "now"}]},
     "state.steps[0].completed"),
])
async def test_a_state_the_database_cannot_store_ends_the_run_in_exception_naming_the_field(state, field):
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    run = await trigger()
    await answer_offer(communicator)
    answer = await request(communicator, {"type": "state", "id": 30, "run": run.identifier, "state": state})
    assert answer["type"] == "error" and answer["final"] is True and "retry" not in answer
    assert field in answer["error"]
    run = await reload(run)
    assert run.status == Status.EXCEPTION
    assert run.status_message.startswith(f"the worker reported an invalid state: {field}: ")
    await communicator.disconnect()


async def test_a_state_for_a_run_that_already_ended_is_checked_all_the_same():
    communicator = await connect(await worker_user())
    await hello(communicator)
    run = await trigger()
    await answer_offer(communicator)
    await database_sync_to_async(do_mark_run_exception)(run, SYSTEM)
    state = {"status": "succeeded", "results": []}
    answer = await request(communicator, {"type": "state", "id": 30, "run": run.identifier, "state": state})
    assert answer["type"] == "error" and answer["final"] is True
    assert answer["error"].startswith("invalid state: state.results: ")
    run = await reload(run)
    assert run.status == Status.EXCEPTION and run.status_message.startswith("marked as exception")
    await communicator.disconnect()


@pytest.mark.skipif(connection.vendor != "mongodb",
                    reason="SQL databases store integers of any size in JSON")
async def test_on_mongodb_a_result_beyond_64_bits_ends_the_run_in_exception_naming_it():
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    run = await trigger()
    await answer_offer(communicator)
    state = {"status": "succeeded", "results": {"fits": 2**63 - 1, "big": [2**63]}}
    answer = await request(communicator, {"type": "state", "id": 31, "run": run.identifier, "state": state})
    assert answer["type"] == "error" and answer["final"] is True
    run = await reload(run)
    assert run.status == Status.EXCEPTION
    assert run.status_message == ("the worker reported an invalid state: state.results.big[0]: "
                                  "is an integer beyond 64 bits (-2**63 to 2**63 - 1), which this "
                                  "database cannot store")
    await communicator.disconnect()


async def test_a_failure_of_the_masters_own_is_answered_retry_and_ends_the_run_if_it_persists():
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    run = await trigger()
    await answer_offer(communicator)
    if connection.vendor == "mongodb":
        refused = collection_accepts_only("runs_run", {
            "$or": [{"_id": {"$ne": run.pk}}, {"results.a": {"$exists": False}}],
        })
        said = MONGODB_REFUSAL
    else:
        refused = database_refuses("runs_run", "UPDATE OF results", f"NEW.id = {run.pk}",
                                   "disk I/O error")
        said = "disk I/O error"
    await database_sync_to_async(refused.__enter__)()
    try:
        state = {"status": "running", "results": {"a": 1}}
        for attempt in range(1, 10):
            answer = await request(communicator, {"type": "state", "id": 40 + attempt, "run": run.identifier, "state": state})
            assert answer["type"] == "error" and answer["retry"] is True, (attempt, answer)
            assert (await reload(run)).status == Status.RUNNING
        answer = await request(communicator, {"type": "state", "id": 50, "run": run.identifier, "state": state})
        assert answer["type"] == "error" and answer["final"] is True and "retry" not in answer
    finally:
        await database_sync_to_async(refused.__exit__)(None, None, None)
    run = await reload(run)
    assert run.status == Status.EXCEPTION
    assert "10 times in a row: " in run.status_message and said in run.status_message
    await communicator.disconnect()
