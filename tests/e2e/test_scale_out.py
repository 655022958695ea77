"""Several masters on PostgreSQL and Redis: a run triggered through one master reaches a worker
connected to another, and each run is given to one worker only."""

import uuid

import pytest

from tests.e2e.harness import Orchestra
from tests.postgres import postgres_database  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


def redis_reachable() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
        return True
    except OSError:
        return False


def test_two_masters_share_the_work(tmp_path, postgres_database):  # noqa: F811
    if not redis_reachable():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    orchestra = Orchestra(tmp_path, env={
        "ORCHESTRA_DATABASE_URL": postgres_database,
        "ORCHESTRA_REDIS_URL": "redis://127.0.0.1:6379/0",
        # Wake-ups must cross masters through Redis: no sweep hides a lost one.
        "ORCHESTRA_DISPATCH_SWEEP_SECONDS": "3600",
    })
    try:
        orchestra.start_master()
        second = orchestra.start_extra_master()
        orchestra.start_worker("on-first", executors=2)
        orchestra.wait_for_run(orchestra.trigger("examples", "hello")["identifier"])

        # Triggered through the second master, woken on the first through Redis.
        status, run = orchestra.api("POST", "/api/projects/examples/jobs/hello/trigger", {}, url=second)
        assert status == 201, run
        assert orchestra.wait_for_run(run["identifier"], timeout=30)["worker"] == "on-first"

        orchestra.start_worker("on-second", executors=2, master_url=second.replace("http", "ws") + "/ws/master/")

        marker = uuid.uuid4().hex[:8]
        identifiers = []
        for index in range(8):
            status, run = orchestra.api(
                "POST", "/api/projects/examples/jobs/echo/trigger",
                {"parameters": {"text": f"{marker}-{index}"}}, url=second if index % 2 else None,
            )
            assert status == 201, run
            identifiers.append(run["identifier"])
        runs = [orchestra.wait_for_run(identifier) for identifier in identifiers]
        assert [run["status"] for run in runs] == ["succeeded"] * 8
        assert [run["results"]["text"] for run in runs] == [f"{marker}-{index}" for index in range(8)]
        # Every run ran once: its log is its text, once.
        for index, identifier in enumerate(identifiers):
            assert orchestra.log(identifier) == f"{marker}-{index}\n".encode()
        assert {run["worker"] for run in runs} <= {"on-first", "on-second"}
    finally:
        orchestra.stop()
