"""Two masters on PostgreSQL and Redis, one service: triggers with one Idempotency-Key sent to both at
once make one run, and both serve the same values from the database in /metrics, each its own
per-process values under its own name."""

import json
import socket
import threading
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.harness import Orchestra
from tests.postgres import fresh_postgres_database

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

TRIGGERS = 8


@pytest.fixture(scope="module")
def two_masters(tmp_path_factory):
    """The installation, started on its first master, and the second master's URL."""
    with fresh_postgres_database() as database:
        # Without Redis the second master would stop at start (docs/operations.md).
        orchestra = Orchestra(tmp_path_factory.mktemp("two-masters"), env={
            "ORCHESTRA_DATABASE_URL": database, "ORCHESTRA_REDIS_URL": "redis://127.0.0.1:6379/0",
        })
        try:
            orchestra.start_master()
            yield orchestra, orchestra.start_extra_master()
        finally:
            orchestra.stop()


def test_triggers_with_one_key_sent_to_two_masters_at_once_make_one_run(two_masters):
    orchestra, second = two_masters
    masters = [orchestra.url, second]
    barrier = threading.Barrier(TRIGGERS)
    answers = []

    def trigger(url: str) -> None:
        request = urllib.request.Request(
            f"{url}/api/projects/examples/jobs/echo/trigger", method="POST",
            data=json.dumps({"parameters": {"text": "once"}}).encode(),
            headers={"Authorization": f"Bearer {orchestra.admin_token}",
                     "Content-Type": "application/json", "Idempotency-Key": "release-1.0"},
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers.append((response.status, json.load(response)["identifier"]))
        except urllib.error.HTTPError as error:
            answers.append((error.code, error.read().decode()))

    threads = [threading.Thread(target=trigger, args=(masters[index % 2],)) for index in range(TRIGGERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    status, runs = orchestra.api("GET", "/api/runs?job=echo")
    assert status == 200, runs
    [run] = [run["identifier"] for run in runs["results"]]
    assert sorted(answers) == [(200, run)] * (TRIGGERS - 1) + [(201, run)]


def test_both_masters_serve_the_same_database_values_and_their_own_counters(two_masters):
    orchestra, second = two_masters
    token = orchestra.create_user("prometheus", "monitor")
    orchestra.trigger("examples", "hello")  # waits: no worker is connected

    def scrape(url: str) -> dict:
        request = urllib.request.Request(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples
        }

    first, other = scrape(orchestra.url), scrape(second)
    age = "orchestra_queue_oldest_run_age_seconds"

    def from_database(samples: dict) -> dict:
        return {key: value for key, value in samples.items()
                if "master" not in dict(key[1]) and key[0] != age}

    assert from_database(first) == from_database(other)
    assert first["orchestra_runs", (("project", "examples"), ("status", "pending"))] >= 1
    assert first["orchestra_queue_runs", ()] >= 1
    # Read a moment apart: the same oldest run, by each master's clock.
    assert abs(first[age, ()] - other[age, ()]) < 30 and first[age, ()] > 0

    host = socket.gethostname()
    pids = [orchestra.master.pid, orchestra.started[1].pid]
    masters = [{dict(labels)["master"] for name, labels in samples
                if name == "orchestra_log_bytes_received_total"} for samples in (first, other)]
    assert masters == [{f"{host}:{pid}"} for pid in pids]
