"""Several masters on PostgreSQL and Redis: a run triggered through one master reaches a worker
connected to another (both ways), the work is spread over the workers of both masters, and each
run is executed once, by the worker it was given to."""

import uuid
from collections import Counter

import pytest

from tests.e2e.harness import FINAL, Orchestra, poll
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
    orchestra = Orchestra(tmp_path, configuration="tests.e2e.scale_out_configuration", env={
        "ORCHESTRA_DATABASE_URL": postgres_database,
        "ORCHESTRA_REDIS_URL": "redis://127.0.0.1:6379/0",
        # Wake-ups must cross masters through Redis: no sweep hides a lost one.
        "ORCHESTRA_DISPATCH_SWEEP_SECONDS": "3600",
    })
    try:
        orchestra.start_master()
        second = orchestra.start_extra_master()
        orchestra.start_worker("on-first", executors=2)
        # A first run shows on-first connected and done with its hello.
        orchestra.wait_for_run(orchestra.trigger("examples", "hello")["identifier"])

        # Triggered through the second master, woken on the first through Redis.
        status, run = orchestra.api("POST", "/api/projects/examples/jobs/hello/trigger", {}, url=second)
        assert status == 201, run
        run = orchestra.wait_for_run(run["identifier"], timeout=30)
        assert (run["status"], run["worker"]) == ("succeeded", "on-first")

        # The other way round: only on-second, connected to the second master, takes the
        # special pool's runs. The first is triggered through its own master and shows it
        # connected; the second, through the first master, can reach it only through Redis.
        orchestra.start_worker("on-second", executors=2, properties={"pool": "special"},
                               master_url=second.replace("http", "ws") + "/ws/master/")
        for url in (second, None):
            status, run = orchestra.api("POST", "/api/projects/examples/jobs/special-pool/trigger", {}, url=url)
            assert status == 201, run
            run = orchestra.wait_for_run(run["identifier"], timeout=30)
            assert (run["status"], run["worker"]) == ("succeeded", "on-second")
            assert orchestra.log(run["identifier"]) == b"Hello from the special pool: on-second\n"

        # Eight runs, triggered through both masters, held by their steps until the gate
        # opens. The workers have two executors each: the first four to start must be two on
        # each worker, whichever master they were triggered through.
        gate, ledger = tmp_path / "gate", tmp_path / "ledger"
        marker = uuid.uuid4().hex[:8]
        identifiers = []
        for index in range(8):
            status, run = orchestra.api(
                "POST", "/api/projects/scale-out/jobs/gated-echo/trigger",
                {"parameters": {"text": f"{marker}-{index}", "gate": str(gate), "ledger": str(ledger)}},
                url=second if index % 2 else None,
            )
            assert status == 201, run
            identifiers.append(run["identifier"])

        def states() -> list[tuple]:
            runs = [orchestra.run(identifier) for identifier in identifiers]
            return [(run["status"], run["worker"], run["status_message"]) for run in runs]

        def four_running() -> list[tuple]:
            now = states()
            assert not [state for state in now if state[0] in FINAL], now  # none may end yet
            running = [state for state in now if state[0] == "running"]
            assert len(running) <= 4, now  # more than the executors there are
            return running if len(running) == 4 else []

        running = poll(four_running, 60, lambda: f"not four runs running: {states()}")
        assert Counter(worker for _, worker, _ in running) == {"on-first": 2, "on-second": 2}
        assert not ledger.exists()  # no step went past the gate
        gate.touch()

        runs = [orchestra.wait_for_run(identifier) for identifier in identifiers]
        assert [run["status"] for run in runs] == ["succeeded"] * 8
        assert [run["results"]["text"] for run in runs] == [f"{marker}-{index}" for index in range(8)]
        # Every run ran once, on the worker the master gave it to: each step wrote one line
        # of the ledger, and streamed its text once.
        assert sorted(ledger.read_text().splitlines()) == sorted(
            f"{marker}-{index} {run['worker']}" for index, run in enumerate(runs)
        )
        for index, identifier in enumerate(identifiers):
            assert orchestra.log(identifier) == f"{marker}-{index}\n".encode()
    finally:
        orchestra.stop()
