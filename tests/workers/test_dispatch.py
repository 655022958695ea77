"""Dispatch: which worker is given which run, and who is told, through the real channel layer."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from channels.layers import get_channel_layer
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orchestra.audit import SYSTEM
from projects.models import Job, Project
from runs.actions import claim_runs, do_trigger_run, finish_run, start_run
from runs.models import Run, Status
from runs.queue import jobs_with_waiting_runs, waiting_reason
from workers.background import mark_silent_workers_disconnected, offer_unconfirmed_runs
from workers.connection_records import apply_state_and_claim
from workers.dispatch import assign_waiting_runs
from workers.models import Worker
from workers.sync import InvalidState, run_request

pytestmark = [pytest.mark.database, pytest.mark.django_db(transaction=True)]


def job(identifier: str, properties: dict | None = None) -> Job:
    project, _ = Project.objects.get_or_create(identifier="p", defaults={"display_name": "P"})
    return Job.objects.create(
        project=project, identifier=identifier, display_name=identifier,
        steps=[{"name": "s", "command": ["true"]}], properties=properties or {},
    )


def connected_worker(identifier: str, properties: dict | None = None, executors: int = 1) -> Worker:
    """A worker row as a consumer leaves it, with a real channel of the channel layer."""
    channel_name = async_to_sync(get_channel_layer().new_channel)()
    worker = Worker.objects.create(
        identifier=identifier, properties=properties or {}, executors=executors,
        is_connected=True, channel_name=channel_name,
    )
    Worker.objects.filter(pk=worker.pk).update(last_seen=Now())
    return worker


def messages_to(worker: Worker) -> list[dict]:
    """Everything the channel layer holds for the worker's consumer."""
    layer = get_channel_layer()

    async def drain() -> list[dict]:
        received = []
        while True:
            try:
                received.append(await asyncio.wait_for(layer.receive(worker.channel_name), 0.05))
            except asyncio.TimeoutError:
                return received

    return async_to_sync(drain)()


def holder(run: Run) -> str | None:
    run.refresh_from_db()
    return run.worker.identifier if run.worker_id else None


def test_a_new_run_is_given_to_one_matching_worker_and_only_its_consumer_is_told():
    others = [connected_worker(f"cpu-{index}", {"pool": "cpu"}) for index in range(5)]
    gpu = connected_worker("gpu-1", {"pool": "gpu"})
    run = do_trigger_run(job("train", {"pool": "gpu"}), {}, SYSTEM)
    assert holder(run) == "gpu-1"
    assert messages_to(gpu) == [{"type": "run.offer", "runs": [run_request(run)]}]
    assert [messages_to(worker) for worker in others] == [[]] * 5


def test_an_offer_too_large_for_the_channel_layer_leaves_the_consumer_to_read_it():
    worker = connected_worker("w")
    many_steps = [{"name": f"s{index}", "command": ["echo", "x" * 1000]} for index in range(100)]
    large = job("large")
    Job.objects.filter(pk=large.pk).update(steps=many_steps)
    run = do_trigger_run(Job.objects.get(pk=large.pk), {}, SYSTEM)
    assert holder(run) == "w"
    assert messages_to(worker) == [{"type": "run.offer"}]


def test_equally_free_workers_share_new_runs_and_a_full_one_gets_none():
    first, second = connected_worker("a"), connected_worker("b")
    hello = job("hello")
    runs = [do_trigger_run(hello, {}, SYSTEM) for _ in range(3)]
    assert sorted(holder(run) or "-" for run in runs) == ["-", "a", "b"]
    assert runs[2].status == Status.PENDING  # both executors are busy: it waits
    assert len(messages_to(first)) == len(messages_to(second)) == 1


def test_a_worker_takes_the_oldest_run_it_matches_however_many_it_cannot_take_wait_ahead():
    gpu_job, hello = job("train", {"pool": "gpu"}), job("hello")
    for _ in range(60):
        do_trigger_run(gpu_job, {}, SYSTEM)
    older, newer = do_trigger_run(hello, {}, SYSTEM), do_trigger_run(hello, {}, SYSTEM)
    worker = Worker.objects.create(identifier="plain", executors=1, is_connected=True)
    assert [run.pk for run in claim_runs(worker)] == [older.pk]
    Worker.objects.filter(pk=worker.pk).update(executors=3)
    assert [run.pk for run in claim_runs(worker)] == [newer.pk]


def test_the_jobs_with_waiting_runs_are_read_once_each_however_many_runs_wait():
    first, second = job("first"), job("second")
    for queued in (first, second, first, first, second):
        do_trigger_run(queued, {}, SYSTEM)
    assert sorted(jobs_with_waiting_runs()) == sorted([first.pk, second.pk])


def test_a_worker_is_never_given_more_runs_than_executors():
    worker = Worker.objects.create(identifier="w", executors=2, is_connected=True)
    hello = job("hello")
    runs = [do_trigger_run(hello, {}, SYSTEM) for _ in range(4)]
    assert [run.pk for run in claim_runs(worker)] == [runs[0].pk, runs[1].pk]
    assert claim_runs(worker) == []
    start_run(runs[0], worker)
    assert claim_runs(worker) == []  # running counts as much as claimed
    finish_run(runs[0], Status.SUCCEEDED)
    assert [run.pk for run in claim_runs(worker)] == [runs[2].pk]


def test_a_claim_when_no_run_waits_reads_the_queue_once_and_begins_no_transaction():
    """A worker that ends a run with nothing queued claims again: on SQLite a transaction
    would take the database's write lock from triggers for nothing."""
    worker = Worker.objects.create(identifier="w", executors=2, is_connected=True)
    hello = job("hello")
    finish_run(do_trigger_run(hello, {}, SYSTEM), Status.CANCELLED)
    with CaptureQueriesContext(connection) as queries:
        assert claim_runs(worker) == []
    assert len(queries.captured_queries) == 1, queries.captured_queries


def test_a_disabled_worker_claims_nothing():
    worker = Worker.objects.create(identifier="w", executors=2, is_enabled=False, is_connected=True)
    do_trigger_run(job("hello"), {}, SYSTEM)
    assert claim_runs(worker) == []


def test_the_sweep_assigns_runs_whose_wake_up_was_lost(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        # The master died between the commit and its wake-up: nobody assigned the run.
        run = do_trigger_run(job("hello"), {}, SYSTEM)
    worker = connected_worker("w")
    assert holder(run) is None
    assert assign_waiting_runs() == 1
    assert holder(run) == "w"
    assert messages_to(worker) == [{"type": "run.offer", "runs": [run_request(run)]}]
    assert assign_waiting_runs() == 0


def test_the_sweep_has_claimed_runs_offered_again_when_the_offer_was_lost():
    worker = connected_worker("w")
    run = do_trigger_run(job("hello"), {}, SYSTEM)
    messages_to(worker)  # the offer is lost
    assert holder(run) == "w"
    assert offer_unconfirmed_runs() == 1
    assert messages_to(worker) == [{"type": "run.offer"}]
    start_run(run, worker)
    assert offer_unconfirmed_runs() == 0


def test_the_sweep_leaves_waiting_runs_no_free_worker_may_take():
    connected_worker("cpu", {"pool": "cpu"})
    run = do_trigger_run(job("train", {"pool": "gpu"}), {}, SYSTEM)
    assert assign_waiting_runs() == 0
    assert holder(run) is None


def test_the_liveness_sweep_disconnects_silent_workers_only(settings):
    settings.WORKER_INACTIVE_AFTER = 60
    silent, live = connected_worker("silent"), connected_worker("live")
    Worker.objects.filter(pk=silent.pk).update(last_seen=Now() - timedelta(seconds=61))
    assert mark_silent_workers_disconnected() == 1
    assert list(Worker.objects.filter(is_connected=True).values_list("identifier", flat=True)) == ["live"]
    assert Worker.objects.get(pk=silent.pk).channel_name == ""


def test_the_liveness_sweep_reads_the_databases_clock_not_the_masters(settings, monkeypatch):
    """A master whose clock runs ten minutes ahead (another machine: mocked, as no second clock
    runs here) must not cut off a worker that another master heard from just now."""
    settings.WORKER_INACTIVE_AFTER = 60
    connected_worker("w")
    monkeypatch.setattr(timezone, "now", lambda: Worker.objects.get().last_seen + timedelta(minutes=10))
    assert mark_silent_workers_disconnected() == 0
    assert Worker.objects.get().is_connected


def limited_job(identifier: str, **limits) -> Job:
    limited = job(identifier)
    Job.objects.filter(pk=limited.pk).update(**limits)
    limited.refresh_from_db()
    return limited


def test_a_worker_takes_the_highest_priority_first_then_the_oldest():
    hello = job("hello")
    ordinary = [do_trigger_run(hello, {}, SYSTEM) for _ in range(3)]
    urgent = do_trigger_run(hello, {}, SYSTEM, priority=10)
    worker = Worker.objects.create(identifier="w", executors=2, is_connected=True)
    assert [run.pk for run in claim_runs(worker)] == [urgent.pk, ordinary[0].pk]


def test_a_job_limited_to_one_run_waits_for_it_whatever_the_workers_and_then_goes_on():
    first, second = connected_worker("a"), connected_worker("b")
    exclusive = limited_job("exclusive", max_concurrent_runs=1)
    hello = job("hello")
    runs = [do_trigger_run(exclusive, {}, SYSTEM) for _ in range(2)]
    other = do_trigger_run(hello, {}, SYSTEM)
    assert [holder(run) is not None for run in runs] == [True, False]
    assert holder(other) is not None  # the limit holds back the job's runs only
    assert waiting_reason(runs[1]) == "The job's limit of 1 concurrent run(s) is reached."
    assert claim_runs(first) == claim_runs(second) == []
    finish_run(runs[0], Status.SUCCEEDED)
    assert holder(runs[1]) is not None


def test_jobs_holding_a_resource_share_its_capacity():
    from runs.models import Resource

    Resource.objects.create(identifier="deploy-prod", capacity=1)
    deploy_a = limited_job("deploy-a", resources=["deploy-prod"])
    deploy_b = limited_job("deploy-b", resources=["deploy-prod"])
    connected_worker("w", executors=4)
    a, b = do_trigger_run(deploy_a, {}, SYSTEM), do_trigger_run(deploy_b, {}, SYSTEM)
    assert (holder(a), holder(b)) == ("w", None)
    assert waiting_reason(b) == "Resource deploy-prod busy."
    Resource.objects.update(capacity=2)
    assert assign_waiting_runs() == 1
    assert holder(b) == "w"


def test_a_pending_run_says_why_it_waits():
    hello = job("hello")
    nobody = do_trigger_run(job("train", {"pool": "gpu"}), {}, SYSTEM)
    assert waiting_reason(nobody) == "No enabled worker has the properties this job needs: {'pool': 'gpu'}."
    Worker.objects.create(identifier="gpu-away", properties={"pool": "gpu"})
    assert waiting_reason(nobody) == "No connected worker matches this job's properties right now."
    connected_worker("busy")
    taken, behind = do_trigger_run(hello, {}, SYSTEM), do_trigger_run(hello, {}, SYSTEM)
    last = do_trigger_run(hello, {}, SYSTEM)
    assert holder(taken) == "busy"
    assert waiting_reason(behind) == "Every matching worker is busy."
    assert waiting_reason(last) == "Queued behind 1 run(s) for the same workers, which are all busy."
    assert waiting_reason(Run.objects.get(pk=taken.pk)) == ""
    later = do_trigger_run(hello, {}, SYSTEM)
    Run.objects.filter(pk=later.pk).update(not_before=timezone.now() + timedelta(hours=1))
    assert waiting_reason(Run.objects.get(pk=later.pk)).startswith("Its retry delay runs until ")


def test_a_run_counts_as_queued_ahead_the_earlier_runs_of_any_job_its_workers_would_take():
    connected_worker("linux", {"os": "linux"})
    connected_worker("windows", {"os": "windows"}, executors=0)
    build, lint, port = job("build", {"os": "linux"}), job("lint"), job("port", {"os": "windows"})
    taken = do_trigger_run(build, {}, SYSTEM)
    earlier = [do_trigger_run(lint, {}, SYSTEM), do_trigger_run(port, {}, SYSTEM),
               do_trigger_run(build, {}, SYSTEM), do_trigger_run(port, {}, SYSTEM)]
    urgent = do_trigger_run(lint, {}, SYSTEM, priority=5)
    last = do_trigger_run(build, {}, SYSTEM)
    assert holder(taken) == "linux" and not any(holder(run) for run in [*earlier, urgent])
    # lint's runs (any worker) and build's come before it on linux; port's wait for windows.
    assert waiting_reason(last) == "Queued behind 3 run(s) for the same workers, which are all busy."
    assert waiting_reason(earlier[1]) == "Queued behind 2 run(s) for the same workers, which are all busy."
    assert waiting_reason(urgent) == "Every matching worker is busy."


def succeeded_state() -> dict:
    now = timezone.now().timestamp()
    return {"status": "succeeded", "steps": [
        {"index": 0, "status": "succeeded", "started": now, "completed": now}
    ]}


def test_a_report_that_ends_its_run_claims_the_next_run_in_the_same_call_and_sends_no_wake_up():
    worker = connected_worker("w")
    hello = job("hello")
    first = do_trigger_run(hello, {}, SYSTEM)
    messages_to(worker)  # the first run's offer
    second = do_trigger_run(hello, {}, SYSTEM)  # waits: the one executor is taken
    start_run(first, worker)
    running = {"status": "running", "steps": [{"index": 0, "status": "running"}]}
    assert apply_state_and_claim(worker, first.identifier, running, set()) == ({"final": False}, [])
    answer, offers = apply_state_and_claim(worker, first.identifier, succeeded_state(), set())
    assert answer == {"final": True}
    assert offers == [run_request(Run.objects.select_related("job", "project").get(pk=second.pk))]
    assert holder(second) == "w"
    assert messages_to(worker) == []


def test_a_report_that_fails_after_ending_its_run_sends_the_wake_up_it_held_back():
    worker = connected_worker("w")
    run = do_trigger_run(job("hello"), {}, SYSTEM)
    messages_to(worker)
    start_run(run, worker)
    with pytest.raises(InvalidState):
        apply_state_and_claim(worker, run.identifier, {"status": "succeeded", "steps": "none"}, set())
    run.refresh_from_db()
    assert run.status == Status.EXCEPTION
    assert messages_to(worker) == [{"type": "dispatch.wake"}]
