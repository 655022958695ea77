"""The master registry with real masters: a second master without Redis stops at start; with
Redis, both are listed, and one killed is listed as gone once its heartbeat stops."""

import os
import signal
import socket

import pytest

from tests.e2e.harness import Orchestra, free_port, poll
from tests.postgres import postgres_database  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def registry(orchestra: Orchestra) -> dict[int, bool]:
    """pid -> is_alive of every master, as the service lists them."""
    status, body = orchestra.api("GET", "/api/masters")
    assert status == 200, body
    return {master["pid"]: master["is_alive"] for master in body["results"]}


def test_a_second_master_without_redis_stops_naming_the_setting(tmp_path):
    orchestra = Orchestra(tmp_path)
    try:
        orchestra.start_master()
        with pytest.raises(RuntimeError) as refusal:
            orchestra.manage("runmaster", "--host", "127.0.0.1", "--port", str(free_port()))
        message = str(refusal.value)
        assert "another master is alive on this database" in message
        assert f"{socket.gethostname()}:{orchestra.master.pid}" in message
        assert "ORCHESTRA_REDIS_URL" in message
        assert "only at that master's next dispatch sweep" in message
        # The refused master left no record; the first serves on.
        assert registry(orchestra) == {orchestra.master.pid: True}
    finally:
        orchestra.stop()


@pytest.mark.postgres
@pytest.mark.redis
def test_masters_beside_each_other_with_redis_are_listed_and_a_killed_one_as_gone(
    tmp_path, postgres_database,  # noqa: F811
):
    orchestra = Orchestra(tmp_path, env={
        "ORCHESTRA_DATABASE_URL": postgres_database,
        "ORCHESTRA_REDIS_URL": "redis://127.0.0.1:6379/0",
        "ORCHESTRA_MASTER_GONE_AFTER": "8",
    })
    try:
        orchestra.start_master()
        orchestra.start_extra_master()
        first, second = orchestra.master.pid, orchestra.started[-1].pid
        assert registry(orchestra) == {first: True, second: True}

        os.killpg(second, signal.SIGKILL)
        orchestra.started[-1].wait(timeout=30)
        poll(lambda: registry(orchestra) == {first: True, second: False}, 60,
             lambda: f"the killed master is not listed as gone: {registry(orchestra)}", interval=0.5)
    finally:
        orchestra.stop()
