"""Worker failover between two masters on PostgreSQL and Redis, three workers on each, every
worker given both master URLs: 300 runs of `append` triggered through both masters, one master
SIGKILLed after about 100 and restarted after about 200. Every run succeeds and appends its
identifier once to one ledger; the killed master's workers go on through the other master; every
run's log reads back byte for byte through either master. The same again with the log store in
the database and a data directory for each master: no shared disk."""

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.harness import FINAL, Orchestra, poll
from tests.postgres import postgres_database  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

RUNS = 300
DATABASE_LOG_STORE = "runs.logstore.DatabaseLogStore"
WORKERS_PER_MASTER = 3

# How the two masters are set up besides the installation's environment: (first, second)
# environment, from the test's directory. The file log store needs one data directory for
# both (the default); a store every master reaches otherwise gives each master its own.
LAYOUTS = {
    "shared-data-directory": lambda tmp_path: ({}, {}),
    "database-log-store": lambda tmp_path: (
        {"ORCHESTRA_LOG_STORE": DATABASE_LOG_STORE},
        {"ORCHESTRA_LOG_STORE": DATABASE_LOG_STORE, "ORCHESTRA_DATA_DIR": str(tmp_path / "second")},
    ),
}


def websocket(url: str) -> str:
    return url.replace("http://", "ws://") + "/ws/master/"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_workers_of_a_killed_master_finish_their_runs_through_the_other(
    tmp_path, postgres_database, layout,  # noqa: F811
):
    first_env, second_env = LAYOUTS[layout](tmp_path)
    orchestra = Orchestra(tmp_path, env={
        "ORCHESTRA_DATABASE_URL": postgres_database,
        "ORCHESTRA_REDIS_URL": "redis://127.0.0.1:6379/0",
    })
    ledger = tmp_path / "ledger"
    try:
        orchestra.start_master(env=first_env)
        first = orchestra.url
        second = orchestra.start_extra_master(env=second_env)
        second_port = int(second.rsplit(":", 1)[1])
        # Each worker starts with its own master and knows the other.
        own = {"a": [websocket(first), websocket(second)], "b": [websocket(second), websocket(first)]}
        workers = {side: [f"{side}-{number}" for number in range(1, WORKERS_PER_MASTER + 1)] for side in own}
        for side, identifiers in workers.items():
            for identifier in identifiers:
                orchestra.start_worker(identifier, executors=2, master_url=own[side])
        orchestra.wait_for_workers(*workers["a"], *workers["b"])

        identifiers: list[str] = []

        def trigger(count: int, masters: list[str]) -> None:
            for index in range(count):
                url = masters[len(identifiers) % len(masters)]
                status, run = orchestra.api(
                    "POST", "/api/projects/examples/jobs/append/trigger",
                    {"parameters": {"path": str(ledger)}}, url=url,
                )
                assert status == 201, (url, status, run)
                identifiers.append(run["identifier"])

        def runs(url: str) -> dict[str, dict]:
            status, body = orchestra.api("GET", "/api/runs?job=append&page_size=500", url=url)
            assert status == 200, body
            return {run["identifier"]: run for run in body["results"]}

        def all_final(url: str) -> dict[str, dict] | None:
            now = runs(url)
            return now if all(now[identifier]["status"] in FINAL for identifier in identifiers) else None

        def unfinished(url: str) -> str:
            now = runs(url)
            return str([(run["identifier"], run["status"], run["worker"]) for run in now.values()
                        if run["status"] not in FINAL])

        trigger(RUNS // 3, [first, second])
        os.killpg(orchestra.extra_masters[second].pid, signal.SIGKILL)
        orchestra.extra_masters[second].wait(timeout=30)
        killed_at = time.monotonic()

        def moved() -> bool:
            return all(f"connected to {websocket(first)} as {identifier}" in orchestra.output(f"worker-{identifier}")
                       for identifier in workers["b"])

        # The second master's workers move to the first (they were never connected to it).
        poll(moved, 60, lambda: "the second master's workers did not all move to the first", interval=0.2)
        trigger(RUNS // 3, [first])
        # Everything so far ends while the second master is dead: the runs its workers held
        # when it died, and those they were given since, went through the first.
        poll(lambda: all_final(first), 240, lambda: f"runs still unfinished: {unfinished(first)}", interval=1)
        second_down_for = time.monotonic() - killed_at

        orchestra.start_extra_master(env=second_env, port=second_port)
        trigger(RUNS - len(identifiers), [first, second])
        final = poll(lambda: all_final(second), 240, lambda: f"runs still unfinished: {unfinished(second)}",
                     interval=1)

        assert [final[identifier]["status"] for identifier in identifiers] == ["succeeded"] * RUNS
        # Each run appended its identifier: none was lost.
        lines = ledger.read_text().splitlines()
        assert sorted(set(lines)) == sorted(identifiers)
        # The second master's workers ran runs of the middle third through the first master.
        after_kill = identifiers[RUNS // 3: 2 * RUNS // 3]
        assert {final[run]["worker"] for run in after_kill} >= set(workers["b"]), (
            f"runs of the second third (second master down {second_down_for:.0f} s) by worker: "
            f"{sorted(final[run]['worker'] for run in after_kill)}"
        )
        for url in (first, second):
            logs = {identifier: orchestra.log(identifier, url=url) for identifier in identifiers}
            assert logs == {identifier: f"appended {identifier}\n".encode() for identifier in identifiers}
        # And none was executed twice: every identifier appended exactly once.
        twice = {run: count for run, count in Counter(lines).items() if count > 1}
        assert not twice, "runs executed more than once: " + ", ".join(
            f"{run} (#{identifiers.index(run)} of {RUNS}, worker {final[run]['worker']}, {count} times)"
            for run, count in twice.items()
        )
    finally:
        orchestra.stop()


def test_the_append_example_appends_its_identifier_and_a_newline(tmp_path):
    orchestra = Orchestra(tmp_path)
    ledger: Path = tmp_path / "ledger"
    try:
        orchestra.start_master()
        orchestra.start_worker("w1")
        first = orchestra.trigger("examples", "append", {"path": str(ledger)})["identifier"]
        second = orchestra.trigger("examples", "append", {"path": str(ledger)})["identifier"]
        assert [orchestra.wait_for_run(run)["status"] for run in (first, second)] == ["succeeded"] * 2
        assert sorted(ledger.read_text().splitlines(keepends=True)) == sorted([f"{first}\n", f"{second}\n"])
        assert orchestra.log(first) == f"appended {first}\n".encode()
    finally:
        orchestra.stop()
