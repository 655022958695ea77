"""Failover: the worker client moves to the next master when it loses one, with back-off, and
resumes its runs there (workers/client/masters.py)."""

import asyncio
import contextlib
import itertools
import json
import os
import time

import pytest
from websockets.exceptions import ConnectionClosed

from tests.workers.test_client_master import (
    Master,
    gaps,
    open_gate,
    serving,
    start_run,
    wait_step_started,
)
from workers.client.connection import WorkerClient
from workers.client.masters import BACKOFF_MAX_SECONDS, MasterList, backoff_delays


def test_backoff_grows_exponentially_with_jitter_up_to_a_cap():
    delays = list(itertools.islice(backoff_delays(first=1, cap=8), 8))
    assert 0.5 <= delays[0] <= 1
    assert 2 <= delays[2] <= 4
    assert all(4 <= delay <= 8 for delay in delays[4:])
    assert max(itertools.islice(backoff_delays(), 50)) <= BACKOFF_MAX_SECONDS
    assert len(set(itertools.islice(backoff_delays(first=1, cap=1), 20))) > 1


def test_a_lost_master_is_followed_by_the_next_in_the_order_given_then_the_first_again():
    masters = MasterList(["ws://a/", "ws://b/", "ws://c/"])
    visited = [masters.current]
    for _ in range(4):
        masters.lost()
        visited.append(masters.current)
    assert visited == ["ws://a/", "ws://b/", "ws://c/", "ws://a/", "ws://b/"]


def test_a_master_named_twice_is_tried_once_per_round():
    masters = MasterList(["ws://a/", "ws://b/", "ws://a/"])
    assert masters.urls == ["ws://a/", "ws://b/"]
    with pytest.raises(ValueError):
        MasterList([])


def test_the_delay_before_the_next_master_grows_until_one_answers():
    masters = MasterList(["ws://a/", "ws://b/"])
    delays = [masters.lost() for _ in range(4)]
    # 0.5 s doubling, times a jitter between 0.5 and 1, whichever master comes next.
    assert [(0.25 * 2**n <= delay <= 0.5 * 2**n) for n, delay in enumerate(delays)] == [True] * 4
    masters.answered()
    assert masters.lost() <= 0.5
    assert 0.5 <= masters.lost() <= 1


async def test_a_worker_that_loses_its_master_resumes_its_runs_on_the_next(tmp_path):
    runs_root = tmp_path / "worker" / "runs"
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    directory = start_run(runs_root, "r1", ["cat", str(gate)])
    wait_step_started(directory)
    first, second = Master(), Master()
    async with serving(second) as second_url:
        async with serving(first) as first_url:
            client = WorkerClient([first_url, second_url], "token", "w1", {}, 1, tmp_path / "worker",
                                  fork_server=False)
            running = asyncio.create_task(client.run_forever())
            await first.until(lambda: first.times("state", "r1"))
        # The first master is gone (its server closed the connection).
        try:
            await second.until(lambda: second.times("state", "r1"))
            await asyncio.to_thread(open_gate, gate)
            await second.until(lambda: second.final_state_at("r1") is not None)
            # Acknowledged by the second master: the worker deletes the run's directory.
            async with asyncio.timeout(20):
                while directory.path.exists():
                    await asyncio.sleep(0.05)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    assert [message["runs"] for _, message in first.received if message["type"] == "hello"] == [["r1"]]
    assert [message["runs"] for _, message in second.received if message["type"] == "hello"] == [["r1"]]
    assert first.final_state_at("r1") is None
    directory.process.wait(timeout=20)


class DroppingMaster(Master):
    """Answers the hello, then closes the connection (a master that dies right after)."""

    async def handle(self, connection) -> None:
        with contextlib.suppress(ConnectionClosed):
            message = json.loads(await connection.recv())
            self.received.append((time.monotonic(), message))
            await connection.send(json.dumps({**self.answer(message), "id": message["id"]}))
            await connection.close()
        async with self.arrived:
            self.arrived.notify_all()


async def test_a_master_that_answered_the_hello_resets_the_back_off(tmp_path):
    master = DroppingMaster()
    async with serving(master) as url:
        client = WorkerClient([url], "token", "w1", {}, 1, tmp_path, fork_server=False)
        running = asyncio.create_task(client.run_forever())
        try:
            await master.until(lambda: len(master.times("hello", None)) == 5)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    # Each connection answered its hello: every delay is the shortest (at most 0.5 s), where
    # a growing back-off would wait 0.5 to 1 s before the third, 1 to 2 s before the fourth.
    assert max(gaps(master.times("hello", None))) < 0.6
