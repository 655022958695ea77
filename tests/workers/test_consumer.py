"""The master's worker endpoint, driven by channels' WebsocketCommunicator (no processes)."""

import asyncio
import base64
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone

from orchestra.asgi import application
from orchestra.audit import SYSTEM
from orchestra.extensions import log_store
from orchestra.tokens import create_token
from projects.models import Job, Project
from runs.actions import (
    claim_run, claim_runs, do_abort_run, do_mark_run_exception, do_trigger_run, finish_run,
)
from runs.models import Run, Status
from workers.consumers import MasterConsumer
from tests.orchestra.audit_failure import (
    MONGODB_REFUSAL, collection_accepts_only, database_refuses,
)
from workers.models import Worker

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def worker_user(name="builder") -> str:
    user = User.objects.create_user(name)
    user.groups.set(Group.objects.filter(name="worker"))
    return create_token(user)[1]


@database_sync_to_async
def trigger(steps=1) -> Run:
    project, _ = Project.objects.get_or_create(identifier="p", defaults={"display_name": "P"})
    job, _ = Job.objects.get_or_create(
        project=project, identifier="j",
        defaults={"display_name": "J", "steps": [
            {"name": f"s{index}", "command": ["echo", str(index)]} for index in range(steps)
        ]},
    )
    return do_trigger_run(job, {}, SYSTEM)


@database_sync_to_async
def reload(run: Run) -> Run:
    return Run.objects.select_related("worker").get(pk=run.pk)


async def wait_for(run: Run, condition, timeout: float = 5) -> Run:
    """The run once `condition(run)` holds (polled), or an assertion error."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        run = await reload(run)
        if condition(run):
            return run
        assert asyncio.get_running_loop().time() < deadline, (run.status, run.worker_id)
        await asyncio.sleep(0.02)


async def connect(token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, "/ws/master/", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def hello(communicator, identifier="w1", runs=(), executors=1) -> dict:
    await communicator.send_json_to({
        "type": "hello", "id": 1, "identifier": identifier, "executors": executors,
        "properties": {}, "version": "test", "runs": list(runs),
    })
    answer = await communicator.receive_json_from(timeout=5)
    assert answer["type"] == "response", answer
    return answer


async def request(communicator, message: dict) -> dict:
    await communicator.send_json_to(message)
    return await communicator.receive_json_from(timeout=5)


def chunk(run: Run, offset: int, data: bytes, request_id: int = 10, step: int = 0) -> dict:
    return {"type": "log", "id": request_id, "run": run.identifier, "step": step,
            "offset": offset, "data": base64.b64encode(data).decode()}


async def test_a_new_run_is_offered_then_streamed_and_finished():
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    worker = await database_sync_to_async(Worker.objects.get)(identifier="w1")
    assert worker.is_connected and worker.executors == 1

    run = await trigger()
    offer = await communicator.receive_json_from(timeout=5)
    assert offer["type"] == "run.start"
    assert offer["run"]["identifier"] == run.identifier
    assert offer["run"]["steps"] == [{"name": "s0", "command": ["echo", "0"]}]
    await communicator.send_json_to({"type": "response", "id": offer["id"]})

    assert await request(communicator, chunk(run, 0, b"one\ntwo\n")) == {"type": "response", "id": 10, "offset": 8}
    # A repeated chunk adds only its new bytes; a chunk beyond the end writes nothing.
    assert (await request(communicator, chunk(run, 4, b"two\nthree\n")))["offset"] == 14
    assert (await request(communicator, chunk(run, 20, b"later\n")))["offset"] == 14
    assert log_store().read(run.identifier, 0) == b"one\ntwo\nthree\n"

    state = {"status": "succeeded", "message": "", "results": {"answer": 42}, "steps": [
        {"index": 0, "status": "succeeded", "started": 1.0, "completed": 2.0, "log_size": 20}]}
    answer = await request(communicator, {"type": "state", "id": 11, "run": run.identifier, "state": state})
    assert answer["type"] == "error" and answer["logs"] == {"0": 14}
    assert (await reload(run)).status == Status.RUNNING

    state["steps"][0]["log_size"] = 14
    answer = await request(communicator, {"type": "state", "id": 12, "run": run.identifier, "state": state})
    assert answer == {"type": "response", "id": 12, "final": True}
    finished = await reload(run)
    assert finished.status == Status.SUCCEEDED and finished.results == {"answer": 42}

    await communicator.disconnect()
    worker = await database_sync_to_async(Worker.objects.get)(identifier="w1")
    assert not worker.is_connected and worker.channel_name == ""


@database_sync_to_async
def trigger_bounded() -> Run:
    project, _ = Project.objects.get_or_create(identifier="p", defaults={"display_name": "P"})
    job = Job.objects.create(
        project=project, identifier="bounded", display_name="Bounded", timeout=30,
        steps=[
            {"name": "fetch", "command": ["true"], "timeout": 5, "silence_timeout": 2.5},
            {"name": "build", "command": ["true"]},
        ],
    )
    return do_trigger_run(job, {}, SYSTEM)


async def test_the_run_request_carries_the_timeouts_that_are_set_and_only_those():
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    run = await trigger_bounded()
    offer = await communicator.receive_json_from(timeout=5)
    assert offer["run"] == {
        "identifier": run.identifier, "project": "p", "job": "bounded", "parameters": {},
        "timeout": 30,
        "steps": [
            {"name": "fetch", "command": ["true"], "timeout": 5, "silence_timeout": 2.5},
            {"name": "build", "command": ["true"]},
        ],
    }
    await communicator.disconnect()


async def test_reconnection_reports_offsets_and_ends_runs_the_worker_lost():
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator, executors=2)
    kept, lost = await trigger(), await trigger()
    for _ in range(2):
        offer = await communicator.receive_json_from(timeout=5)
        await communicator.send_json_to({"type": "response", "id": offer["id"]})
    await request(communicator, chunk(kept, 0, b"0123456789\n"))
    await communicator.disconnect()

    await database_sync_to_async(do_abort_run)(kept, SYSTEM)
    communicator = await connect(token)
    answer = await hello(communicator, runs=[kept.identifier, "f" * 32], executors=2)
    assert answer["runs"][kept.identifier] == {"logs": {"0": 11}, "abort": True}
    assert "drop" in answer["runs"]["f" * 32]
    lost = await reload(lost)
    assert lost.status == Status.EXCEPTION
    assert "reconnected without this run" in lost.status_message
    await communicator.disconnect()


async def test_an_abort_reaches_the_connected_worker():
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    run = await trigger()
    offer = await communicator.receive_json_from(timeout=5)
    await communicator.send_json_to({"type": "response", "id": offer["id"]})
    await communicator.receive_nothing(timeout=0.2)

    await database_sync_to_async(do_abort_run)(run, SYSTEM)
    abort = await communicator.receive_json_from(timeout=5)
    assert abort["type"] == "run.abort" and abort["run"] == run.identifier
    await communicator.disconnect()


async def test_a_run_its_worker_cannot_start_ends_in_exception_and_is_not_offered_again():
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    run = await trigger()
    offer = await communicator.receive_json_from(timeout=5)
    await communicator.send_json_to({"type": "error", "id": offer["id"], "error": "disk full"})
    run = await wait_for(run, lambda run: run.status == Status.EXCEPTION)
    assert run.status_message == "worker w1 could not start the run: disk full"
    await communicator.receive_nothing(timeout=0.3)  # no second offer
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


async def test_a_worker_identifier_belongs_to_its_first_user():
    await hello(await connect(await worker_user("first")), identifier="shared")
    intruder = await connect(await worker_user("second"))
    await intruder.send_json_to({"type": "hello", "id": 1, "identifier": "shared", "executors": 1})
    assert "another user" in (await intruder.receive_json_from(timeout=5))["error"]
    refusal = await intruder.receive_json_from(timeout=5)
    assert refusal == {"type": "refused", "code": 4003,
                       "reason": "worker identifier 'shared' belongs to another user"}
    assert (await intruder.receive_output(timeout=5))["type"] == "websocket.close"


@pytest.mark.django_db
def test_mark_run_exception_ends_an_active_run_only():
    project = Project.objects.create(identifier="p", display_name="P")
    job = Job.objects.create(project=project, identifier="j", display_name="J",
                             steps=[{"name": "s", "command": ["true"]}])
    active = do_trigger_run(job, {}, SYSTEM)
    Run.objects.filter(pk=active.pk).update(status=Status.RUNNING)
    assert do_mark_run_exception(active, SYSTEM)
    active.refresh_from_db()
    assert active.status == Status.EXCEPTION and "marked as exception" in active.status_message
    assert list(active.steps.values_list("status", flat=True)) == [Status.CANCELLED]

    succeeded = do_trigger_run(job, {}, SYSTEM)
    Run.objects.filter(pk=succeeded.pk).update(status=Status.RUNNING)
    assert finish_run(succeeded, Status.SUCCEEDED, "all good")
    assert not do_mark_run_exception(succeeded, SYSTEM)
    succeeded.refresh_from_db()
    assert (succeeded.status, succeeded.status_message) == (Status.SUCCEEDED, "all good")


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


async def answer_offer(communicator) -> dict:
    offer = await communicator.receive_json_from(timeout=5)
    assert offer["type"] == "run.start", offer
    await communicator.send_json_to({"type": "response", "id": offer["id"]})
    return offer


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


async def test_runs_claimed_but_never_confirmed_are_offered_again_after_a_reconnection():
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    run = await trigger()
    offer = await communicator.receive_json_from(timeout=5)  # the answer is lost with the link
    await communicator.disconnect()
    assert (await reload(run)).worker.identifier == "w1"

    communicator = await connect(token)
    await hello(communicator, runs=[])  # the worker never got it: it reports nothing
    again = await answer_offer(communicator)
    assert again["run"] == offer["run"]
    assert (await wait_for(run, lambda run: run.status == Status.RUNNING)).worker.identifier == "w1"
    await communicator.disconnect()


async def test_an_abort_between_claim_and_confirmation_cancels_the_run_when_it_is_released():
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    run = await trigger()
    await communicator.receive_json_from(timeout=5)  # offered; the worker never answers
    assert await database_sync_to_async(do_abort_run)(run, SYSTEM)
    await communicator.disconnect()

    communicator = await connect(token)
    await hello(communicator, runs=[])
    run = await reload(run)
    assert (run.status, run.status_message) == (
        Status.CANCELLED, "cancelled before its worker started it")
    await communicator.receive_nothing(timeout=0.3)  # and never offered again
    await communicator.disconnect()


async def test_a_worker_is_offered_no_more_runs_than_its_executors_and_more_as_they_free():
    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator, executors=2)
    runs = [await trigger() for _ in range(3)]
    offers = [await answer_offer(communicator), await answer_offer(communicator)]
    assert [offer["run"]["identifier"] for offer in offers] == [run.identifier for run in runs[:2]]
    await communicator.receive_nothing(timeout=0.3)

    state = {"status": "succeeded", "steps": [
        {"index": 0, "status": "succeeded", "started": 1.0, "completed": 2.0, "log_size": 0}]}
    answer = await request(communicator, {"type": "state", "id": 20, "run": runs[0].identifier, "state": state})
    assert answer == {"type": "response", "id": 20, "final": True}
    assert (await answer_offer(communicator))["run"]["identifier"] == runs[2].identifier
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


@pytest.mark.parametrize("runs", [5, "r", [5], [["r"]], ["r" * 33], ["\ud800"]])
async def test_a_hello_whose_runs_are_not_run_identifiers_is_an_error_naming_them(runs):
    communicator = await connect(await worker_user())
    answer = await request(communicator, {"type": "hello", "id": 1, "identifier": "w1",
                                          "executors": 1, "properties": {}, "runs": runs})
    assert answer["type"] == "error" and "field 'runs" in answer["error"], answer
    await hello(communicator)
    await communicator.disconnect()


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


@database_sync_to_async
def trigger_unmatched() -> Run:
    """A run no worker of these tests matches: dispatch leaves it waiting."""
    project, _ = Project.objects.get_or_create(identifier="p", defaults={"display_name": "P"})
    job, _ = Job.objects.get_or_create(
        project=project, identifier="pooled",
        defaults={"display_name": "Pooled", "properties": {"pool": "elsewhere"},
                  "steps": [{"name": "s0", "command": ["true"]}]},
    )
    return do_trigger_run(job, {}, SYSTEM)


async def test_a_run_claimed_for_a_worker_that_leaves_before_it_was_offered_goes_back_to_the_queue():
    communicator = await connect(await worker_user())
    await hello(communicator)
    worker = await database_sync_to_async(Worker.objects.get)(identifier="w1")
    run = await trigger_unmatched()
    # Claimed by another master's dispatch, whose word to this consumer is still on its way.
    assert await database_sync_to_async(claim_run)(run, worker)
    await communicator.disconnect()
    run = await reload(run)
    assert (run.status, run.worker_id) == (Status.PENDING, None)


async def test_a_run_offered_to_a_worker_that_leaves_stays_with_it_until_it_returns():
    communicator = await connect(await worker_user())
    await hello(communicator)
    run = await trigger()
    await communicator.receive_json_from(timeout=5)  # offered: the worker may have started it
    await communicator.disconnect()
    assert (await reload(run)).worker.identifier == "w1"


async def test_no_run_is_claimed_for_a_worker_that_is_not_connected():
    communicator = await connect(await worker_user())
    await hello(communicator)
    await communicator.disconnect()
    worker = await database_sync_to_async(Worker.objects.get)(identifier="w1")
    run = await trigger()  # one it matches
    assert not await database_sync_to_async(claim_run)(run, worker)
    assert await database_sync_to_async(claim_runs)(worker) == []
    assert (await reload(run)).worker_id is None


class RememberedConsumer(MasterConsumer):
    """The master's consumer, kept at hand to give it the history of a long-lived connection."""

    instances: list[MasterConsumer] = []

    async def connect(self) -> None:
        RememberedConsumer.instances.append(self)
        await super().connect()


async def test_a_connection_that_offered_hundreds_of_thousands_of_runs_still_offers_the_next():
    token = await worker_user()
    communicator = WebsocketCommunicator(
        RememberedConsumer.as_asgi(), "/ws/master/",
        headers=[(b"authorization", f"Bearer {token}".encode())],
    )
    assert (await communicator.connect())[0]
    await hello(communicator)
    consumer = RememberedConsumer.instances[-1]
    # A busy worker's months on one connection: more identifiers than one SQL statement takes.
    consumer.offered.update(f"{number:032x}" for number in range(260_000))
    run = await trigger()
    offer = await communicator.receive_json_from(timeout=30)
    assert (offer["type"], offer["run"]["identifier"]) == ("run.start", run.identifier)
    await communicator.send_json_to({"type": "response", "id": offer["id"]})
    await wait_for(run, lambda run: run.status == Status.RUNNING)
    assert run.identifier not in consumer.offered  # answered: nothing more to remember
    await communicator.disconnect()
