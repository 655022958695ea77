"""Scale benchmark: the same work on three setups of this machine, each with 8 workers.

1. one master on SQLite (the default installation);
2. one master on PostgreSQL (a fresh database on 127.0.0.1:5432, dropped afterwards);
3. two masters on PostgreSQL and Redis (127.0.0.1:6379, database 14), half the workers
   connected to each, the triggers alternating between them.

Each worker is a real runworker_client with `--executors` executors (default 1: 8 executors in
all, as `bench/throughput.py --executors 8` has in one worker). After a warm-up run, M runs of
`bench/true` (one step: `true`) are triggered through the service from a few threads at once.
Prints runs per second from the first trigger to the last run final, trigger -> running (the
run's `created` -> `started`, the masters' own timestamps) p50 / p95 / max, and the masters'
CPU time per run; then trigger -> running of runs triggered one at a time (nothing queued),
alternately through each master.

    .venv/bin/python bench/scale.py [--runs 200] [--workers 8] [--executors 1] [--one-at-a-time 20]
                                    [--triggering-threads 4] [--setups sqlite postgresql two-masters]
"""

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.throughput import all_runs, count_final, cpu_seconds, describe, moment  # noqa: E402
from tests.e2e.harness import Orchestra  # noqa: E402
from tests.postgres import fresh_postgres_database  # noqa: E402

SETUPS = {
    "sqlite": "one master on SQLite",
    "postgresql": "one master on PostgreSQL",
    "two-masters": "two masters on PostgreSQL and Redis",
}


def measure(setup: str, runs: int, workers: int, executors: int, threads: int, sequential: int) -> dict:
    with nullcontext() if setup == "sqlite" else fresh_postgres_database() as database:
        env = {}
        if database:
            env["ORCHESTRA_DATABASE_URL"] = database
        if setup == "two-masters":
            env["ORCHESTRA_REDIS_URL"] = "redis://127.0.0.1:6379/14"
        orchestra = Orchestra(Path(tempfile.mkdtemp(prefix="orchestra-bench-")), "bench.configuration",
                              env or None)
        try:
            return drive(orchestra, setup, runs, workers, executors, threads, sequential)
        finally:
            orchestra.stop()


def drive(orchestra: Orchestra, setup: str, runs: int, workers: int, executors: int, threads: int,
          sequential: int) -> dict:
    load_before = os.getloadavg()[0]
    orchestra.start_master()
    masters, master_processes = [orchestra.url], [orchestra.master]
    if setup == "two-masters":
        masters.append(orchestra.start_extra_master())
        master_processes.append(orchestra.extra_masters[masters[-1]])
    identifiers = [f"scale-{index}" for index in range(workers)]
    for index, identifier in enumerate(identifiers):
        master = masters[index % len(masters)]
        orchestra.start_worker(identifier, executors=executors,
                               master_url=master.replace("http://", "ws://") + "/ws/master/")
    orchestra.wait_for_workers(*identifiers, timeout=180)
    orchestra.wait_for_run(orchestra.trigger("examples", "hello")["identifier"], timeout=120)  # warm up

    cpu_before = sum(cpu_seconds(process.pid)[0] for process in master_processes)

    def trigger(index: int) -> str:
        status, body = orchestra.api("POST", "/api/projects/bench/jobs/true/trigger", {"parameters": {}},
                                     url=masters[index % len(masters)])
        assert status == 201, body
        return body["identifier"]

    first_trigger = time.time()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(trigger, range(runs)))
    triggered = time.time()
    deadline = time.monotonic() + 120 + runs
    while count_final(orchestra) < runs:
        assert time.monotonic() < deadline, "the runs did not end in time"
        time.sleep(0.2)
    cpu_after = sum(cpu_seconds(process.pid)[0] for process in master_processes)
    finished = all_runs(orchestra)
    # One at a time: what a run waits for when nothing is queued (with two masters, triggered
    # through each in turn, and given to a free worker of either).
    alone = [orchestra.wait_for_run(trigger(index), timeout=120) for index in range(sequential)]
    statuses = {run["status"] for run in finished + alone}
    if statuses != {"succeeded"}:
        raise SystemExit(f"{setup}: not every run succeeded: {statuses}")
    return {
        "setup": SETUPS[setup],
        "runs": runs,
        "seconds": max(moment(run["completed"]) for run in finished) - first_trigger,
        "trigger seconds": triggered - first_trigger,
        "to running": [moment(run["started"]) - moment(run["created"]) for run in finished],
        "alone to running": [moment(run["started"]) - moment(run["created"]) for run in alone],
        "cpu masters": cpu_after - cpu_before,
        "load": (load_before, os.getloadavg()[0]),
        "workers": {run["worker"] for run in finished},
    }


def report(figures: dict, workers: int, executors: int) -> None:
    print(f"{figures['setup']}: {figures['runs']} runs of `true`, {workers} workers x {executors} "
          f"executor(s) (load average {figures['load'][0]:.1f} before, {figures['load'][1]:.1f} after)")
    print(f"  first trigger -> last final: {figures['seconds']:.2f} s, "
          f"{figures['runs'] / figures['seconds']:.1f} runs/s (the triggers took {figures['trigger seconds']:.2f} s)")
    print(f"  trigger -> running: {describe(figures['to running'])}")
    print(f"  one at a time ({len(figures['alone to running'])} runs): trigger -> running: "
          f"{describe(figures['alone to running'])}")
    print(f"  masters' CPU per run: {figures['cpu masters'] / figures['runs'] * 1000:.0f} ms; "
          f"runs on {len(figures['workers'])} of the {workers} workers", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--executors", type=int, default=1, help="executors of each worker")
    parser.add_argument("--triggering-threads", type=int, default=4)
    parser.add_argument("--one-at-a-time", type=int, default=20, help="runs triggered one after the other")
    parser.add_argument("--setups", nargs="+", choices=SETUPS, default=list(SETUPS))
    arguments = parser.parse_args()
    for setup in arguments.setups:
        report(measure(setup, arguments.runs, arguments.workers, arguments.executors,
                       arguments.triggering_threads, arguments.one_at_a_time),
               arguments.workers, arguments.executors)


if __name__ == "__main__":
    main()
