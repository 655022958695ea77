"""The master's worker endpoint: runs claimed for a worker are offered to it, no more than its
executors, started once it confirms, and kept or given back when its connection ends."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from orchestra.audit import SYSTEM
from orchestra.extensions import log_store
from projects.models import Job, Project
from runs.actions import Claim, claim_run, claim_runs, do_abort_run, do_trigger_run
from runs.models import Run, Status
from tests.workers.master_endpoint import (
    answer_offer, chunk, connect, hello, reload, request, trigger, wait_for, worker_user,
)
from workers.consumers import MasterConsumer
from workers.models import Worker

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]


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


async def test_an_offer_claimed_between_the_hello_and_its_reconciliation_is_not_sent_stale(monkeypatch):
    """A dispatch claims a waiting run for a worker that has just registered, and sends its
    offer with the run's request; the hello's reconciliation then gives the run back (the worker
    did not report it) and another worker takes it. The offer, handled after the hello, must
    not start the run here too: it would run twice (seen in tests/e2e/test_failover.py)."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from runs import signals
    from workers import sync
    from workers.dispatch import assign_run_when_committed

    token = await worker_user()
    run = await trigger()
    other = await database_sync_to_async(Worker.objects.create)(
        identifier="w2", owner=None, executors=1, is_connected=True, channel_name="elsewhere",
    )
    reconcile = sync.reconcile

    def claimed_meanwhile(worker, reported):
        claimed = Run.objects.get(pk=run.pk)
        assert claim_run(claimed, worker) is Claim.CLAIMED
        channel = Worker.objects.get(pk=worker.pk).channel_name
        async_to_sync(get_channel_layer().send)(
            channel, {"type": "run.offer", "runs": [sync.run_request(claimed)]}
        )
        answer = reconcile(worker, reported)
        assert claim_run(Run.objects.get(pk=run.pk), other) is Claim.CLAIMED
        return answer

    monkeypatch.setattr(sync, "reconcile", claimed_meanwhile)
    # The release would wake dispatch, which might hand the run back to w1 at once.
    signals.run_released.disconnect(dispatch_uid="dispatch.released")
    try:
        communicator = await connect(token)
        await hello(communicator)
        assert await communicator.receive_nothing(timeout=1)
    finally:
        signals.run_released.connect(assign_run_when_committed, dispatch_uid="dispatch.released")
    assert (await reload(run)).worker_id == other.pk
    await communicator.disconnect()


async def test_an_offer_that_comes_after_its_run_was_offered_answered_and_finished_is_not_sent_again():
    """Dispatch claims a run for a worker and sends its offer with the run's request; before the
    offer arrives, a wake-up (or a sweep) reads the claim from the database and offers the run,
    the worker starts it and finishes it. The offer, handled last, must not start it again:
    the worker, which has deleted the finished run, would run it twice (seen in
    tests/e2e/test_failover.py, where offers cross between masters through Redis)."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from workers import sync
    from workers.dispatch import OFFER

    token = await worker_user()
    communicator = await connect(token)
    await hello(communicator)
    worker = await database_sync_to_async(Worker.objects.get)(identifier="w1")
    await communicator.disconnect()
    run = await trigger()  # no worker connected: it waits
    communicator = await connect(token)
    await hello(communicator)
    offer = await communicator.receive_json_from(timeout=5)  # claimed and offered at the hello
    assert offer["run"]["identifier"] == run.identifier
    late_offer = {**OFFER, "runs": [await database_sync_to_async(sync.run_request)(run)]}
    await communicator.send_json_to({"type": "response", "id": offer["id"]})
    await wait_for(run, lambda run: run.status == Status.RUNNING)
    state = {"status": "succeeded", "message": "", "results": {}, "steps": [
        {"index": 0, "status": "succeeded", "started": 1.0, "completed": 2.0, "log_size": 0}]}
    answer = await request(communicator, {"type": "state", "id": 11, "run": run.identifier, "state": state})
    assert answer["final"]

    channel = (await database_sync_to_async(Worker.objects.get)(pk=worker.pk)).channel_name
    await database_sync_to_async(async_to_sync(get_channel_layer().send))(channel, late_offer)
    assert await communicator.receive_nothing(timeout=1)
    await communicator.disconnect()
