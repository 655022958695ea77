"""Several masters against PostgreSQL and Redis share the work: every run is claimed once, a
trigger on one master reaches a worker connected to another, and so does an abort."""

import json
import time
import urllib.request
import uuid

import psycopg
import pytest

from tests.e2e.harness import Orchestra, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

POSTGRESQL = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture
def database_url():
    """A fresh PostgreSQL database of its own for this test, dropped afterwards."""
    name = f"orchestra_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{POSTGRESQL}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"{POSTGRESQL}/{name}"
    with psycopg.connect(f"{POSTGRESQL}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def two_masters(tmp_path, database_url):
    installation = Orchestra(
        tmp_path,
        env={
            "ORCHESTRA_DATABASE_URL": database_url,
            "ORCHESTRA_REDIS_URL": "redis://127.0.0.1:6379/7",
            # Only the channel layer may carry a trigger from one master to another's worker:
            # the sweep that would repair a lost wake-up is pushed out of the test's reach.
            "ORCHESTRA_DISPATCH_SWEEP_SECONDS": "3600",
        },
    )
    try:
        installation.start_master()
        second_port = free_port()
        installation.spawn(
            "master-2", ["runmaster", "--host", "127.0.0.1", "--port", str(second_port)]
        )
        wait_for_http(f"http://127.0.0.1:{second_port}/static/orchestra.css")
        yield installation, second_port
    finally:
        installation.stop()


def wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.1)


def call(port: int, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_runs_triggered_on_either_master_are_each_run_once(two_masters):
    orchestra, second_port = two_masters
    orchestra.start_worker("on-first", executors=2)
    orchestra.start_worker(
        "on-second", executors=2, master_url=f"ws://127.0.0.1:{second_port}/ws/master/"
    )
    ports = [orchestra.port, second_port]
    identifiers = []
    for index in range(16):
        status, run = call(
            ports[index % 2], orchestra.admin_token, "POST",
            "/api/projects/examples/jobs/hello/trigger", {"parameters": {}},
        )
        assert status == 201, run
        identifiers.append(run["identifier"])

    for identifier in identifiers:
        run = orchestra.wait_for_run(identifier, timeout=120)
        assert run["status"] == "succeeded", run
        assert run["worker"] in ("on-first", "on-second")
        # The log names the worker that ran it, once: no run was executed twice.
        assert orchestra.log(identifier) == f"Hello from {run['worker']}\n".encode()


def test_trigger_and_abort_cross_from_one_master_to_the_other(two_masters):
    orchestra, second_port = two_masters
    orchestra.start_worker("only-on-first", executors=1)
    deadline = time.monotonic() + 30
    while not any(w["is_connected"] for w in orchestra.api("GET", "/api/workers")[1]["results"]):
        assert time.monotonic() < deadline, "the worker did not connect"
        time.sleep(0.1)

    status, run = call(
        second_port, orchestra.admin_token, "POST",
        "/api/projects/examples/jobs/slow-count/trigger",
        {"parameters": {"lines": 600, "delay": 1}},
    )
    assert status == 201, run
    running = orchestra.wait_for_run(run["identifier"], statuses=("running",), timeout=60)
    assert running["worker"] == "only-on-first"

    status, _ = call(second_port, orchestra.admin_token, "POST", f"/api/runs/{run['identifier']}/abort")
    assert status in (200, 202)
    assert orchestra.wait_for_run(run["identifier"], timeout=60)["status"] == "aborted"
