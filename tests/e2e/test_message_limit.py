"""Issue 10: a message too large for the other end (1 MiB, docs/protocol.md) is never sent, so it
is never retried in a loop: the run it carries ends `exception` saying why, and the worker stays
connected and runs the next run."""

import pytest

from tests.e2e.harness import Orchestra, last_line

pytestmark = pytest.mark.e2e

# A run stored before the trigger's size limits existed: its parameters are written in the
# trigger's own transaction, past every check, so dispatch only ever sees the huge ones.
TRIGGER_WITH_HUGE_TEXT = """
from django.db import transaction
from orchestra.audit import SYSTEM
from projects.models import Job
from runs.actions import do_trigger_run
from runs.models import Run

job = Job.objects.get(project__identifier="examples", identifier="echo")
with transaction.atomic():
    run = do_trigger_run(job, {"text": "x"}, SYSTEM)
    Run.objects.filter(pk=run.pk).update(parameters={"text": "x" * 1_100_000})
print(run.identifier)
"""


@pytest.fixture
def orchestra(tmp_path):
    # A run triggered by another process (the shell below) is offered at the next sweep.
    installation = Orchestra(
        tmp_path, configuration="tests.e2e.configuration",
        env={"ORCHESTRA_DISPATCH_SWEEP_SECONDS": "1"},
    )
    try:
        installation.start_master()
        yield installation
    finally:
        installation.stop()


def connections(orchestra: Orchestra, identifier: str) -> int:
    return orchestra.output("master").count(f"worker {identifier} connected")


def test_a_run_request_too_large_for_a_message_ends_in_exception_and_the_worker_runs_on(orchestra):
    worker = orchestra.start_worker("w1", executors=1)
    orchestra.wait_for_worker("w1")
    # A run stored before the limits on parameters existed must not wedge its worker either.
    identifier = last_line(orchestra.shell(TRIGGER_WITH_HUGE_TEXT))
    run = orchestra.wait_for_run(identifier, timeout=30)
    assert run["status"] == "exception", run
    assert "cannot be sent to worker w1" in run["status_message"]
    assert "more than the 1048576 bytes a message may hold" in run["status_message"]

    after = orchestra.wait_for_run(orchestra.trigger("examples", "hello")["identifier"])
    assert (after["status"], after["worker"]) == ("succeeded", "w1")
    assert worker.poll() is None
    assert connections(orchestra, "w1") == 1


def test_a_state_too_large_for_a_message_ends_the_run_in_exception_and_the_worker_runs_on(orchestra):
    worker = orchestra.start_worker("w1", executors=1)
    big = orchestra.trigger("resilience", "big-results", {"size": 1_100_000})
    run = orchestra.wait_for_run(big["identifier"], timeout=30)
    assert run["status"] == "exception", run
    assert "more than the 1048576 bytes a message may hold" in run["status_message"]
    assert run["results"] == {}

    after = orchestra.wait_for_run(orchestra.trigger("examples", "hello")["identifier"])
    assert (after["status"], after["worker"]) == ("succeeded", "w1")
    assert worker.poll() is None
    assert connections(orchestra, "w1") == 1
