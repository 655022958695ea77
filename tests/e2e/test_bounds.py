"""Issue 11: a run past its job's timeout or silence timeout ends `failed`, naming the limit,
on a real master and worker; the executor enforces it even while the worker client is dead."""

import json
from datetime import datetime

import pytest

from tests.e2e.harness import Orchestra, poll

pytestmark = pytest.mark.e2e
CONFIGURATION = "tests.e2e.configuration"  # the `orchestra` fixture's (tests/e2e/conftest.py)

# The example jobs (examples/configuration.py): what ends each, and after how many seconds.
BOUNDED = {
    "sleepy": ("step 'sleep' exceeded the job's timeout of 3 s", 3),
    "silent": ("step 'print then wait' printed nothing for 2 s (silence_timeout)", 2),
}


def assert_ended_by(orchestra: Orchestra, identifier: str, job: str) -> None:
    message, limit = BOUNDED[job]
    run = orchestra.wait_for_run(identifier, timeout=60)
    assert (run["status"], run["status_message"]) == ("failed", message), run
    step = run["steps"][0]
    assert step["status"] == "failed"
    # The step's own timestamps, written by the executor: it ended a few seconds after the
    # limit, however long the master took to hear of it.
    lasted = (datetime.fromisoformat(step["completed"]) - datetime.fromisoformat(step["started"])).total_seconds()
    assert limit - 0.5 <= lasted <= limit + 3, lasted
    assert orchestra.log(identifier).splitlines()[-1].decode() == f"[orchestra] {message}"


def executor_state(orchestra: Orchestra, worker: str, identifier: str) -> dict:
    """The run's state as the executor wrote it in the worker's run directory."""
    path = orchestra.data_dir / f"worker-{worker}" / "runs" / identifier / "state.json"
    return json.loads(path.read_text())


def ended_on_worker(orchestra: Orchestra, worker: str, identifier: str) -> dict | None:
    state = executor_state(orchestra, worker, identifier)
    return None if state["status"] == "running" else state


@pytest.mark.parametrize("job", BOUNDED)
def test_a_run_past_its_bound_ends_failed_naming_the_limit(orchestra, job):
    orchestra.start_worker("bounded")
    run = orchestra.trigger("examples", job)
    assert_ended_by(orchestra, run["identifier"], job)


@pytest.mark.parametrize("job", BOUNDED)
def test_the_executor_enforces_the_bound_while_the_worker_client_is_dead(orchestra, job):
    orchestra.start_worker("crashy")
    identifier = orchestra.trigger("examples", job)["identifier"]
    poll(lambda: orchestra.run(identifier)["steps"][0]["status"] == "running", 60,
         lambda: f"the step never started: {orchestra.run(identifier)}")

    orchestra.kill_worker("crashy")
    assert executor_state(orchestra, "crashy", identifier)["status"] == "running"
    message, limit = BOUNDED[job]
    ended = poll(lambda: ended_on_worker(orchestra, "crashy", identifier), limit + 15,
                 lambda: f"the executor did not end the run: {executor_state(orchestra, 'crashy', identifier)}")
    assert (ended["status"], ended["message"]) == ("failed", message)
    assert orchestra.run(identifier)["status"] == "running"  # nobody told the master yet

    orchestra.start_worker("crashy")
    assert_ended_by(orchestra, identifier, job)
