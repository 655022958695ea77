"""Run throughput benchmark: real runmaster + one runworker_client on loopback, SQLite, temp data.

For each executor count, a fresh installation: the worker client starts with N executors,
then M runs of `examples/noop` (one step: `true`) are triggered through the service, from a few
threads at once, as fast as the service takes them. Prints runs per second from the first
trigger to the last run `succeeded`, and the distribution of each run's trigger -> running
(created -> started, the master's own timestamps) and running -> succeeded (started ->
completed) times, the CPU time per run of the master, the worker client and the executors;
then the same latencies for runs triggered one at a time (nothing queued).

    .venv/bin/python bench/throughput.py [--runs 200] [--executors 4 8] [--triggering-threads 4]
                                         [--start fork-server|spawn|both]

Each configuration runs twice by default: executors forked by the worker client's fork server,
and (`--no-fork-server`) a fresh interpreter per run.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.harness import FINAL, Orchestra  # noqa: E402


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * fraction) - 1))]


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    return (
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {percentile(ordered, 0.95) * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )


def moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def count_final(orchestra: Orchestra) -> int:
    statuses = "&".join(f"status={status}" for status in FINAL)
    status, body = orchestra.api("GET", f"/api/runs?project=examples&job=noop&{statuses}&page_size=1")
    assert status == 200, body
    return body["count"]


def all_runs(orchestra: Orchestra) -> list[dict]:
    runs, page = [], 1
    while True:
        status, body = orchestra.api("GET", f"/api/runs?project=examples&job=noop&page_size=500&page={page}")
        assert status == 200, body
        runs += body["results"]
        if not body["next"]:
            return runs
        page += 1


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time of a process itself, and of its children it reaped (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks, (int(fields[13]) + int(fields[14])) / ticks


def fork_server_cpu_seconds(worker_pid: int) -> float:
    """CPU time of the worker client's fork server and of the executors it forked and reaped."""
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit() and f"PPid:\t{worker_pid}\n" in (entry / "status").read_text()
                and b"forkserver.py" in (entry / "cmdline").read_bytes()
            ):
                return sum(cpu_seconds(int(entry.name)))
        except OSError:
            continue
    return 0.0


def watch_one_run(orchestra: Orchestra, interval: float = 0.01) -> tuple[dict, float]:
    """Trigger one `examples/noop` run and read it through the service every `interval` until it
    is final; returns the run and the seconds from sending the trigger to seeing it final."""
    begin = time.time()
    identifier = orchestra.trigger("examples", "noop")["identifier"]
    while True:
        run = orchestra.run(identifier)
        if run["status"] in FINAL:
            return run, time.time() - begin
        time.sleep(interval)


def measure(runs: int, executors: int, threads: int, fork_server: bool, sequential: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="orchestra-bench-"))
    orchestra = Orchestra(data, "bench.configuration")
    try:
        orchestra.start_master()
        worker = orchestra.spawn("worker", [
            "runworker_client", "--master-url", orchestra.ws_url, "--token", orchestra.worker_token,
            "--identifier", "bench-worker", "--executors", str(executors),
            "--data-dir", str(orchestra.data_dir / "worker"), *([] if fork_server else ["--no-fork-server"]),
        ])
        # Warm up: the worker is connected, the master's code paths are loaded.
        orchestra.wait_for_run(orchestra.trigger("examples", "hello")["identifier"])
        master_before, worker_before = cpu_seconds(orchestra.master.pid), cpu_seconds(worker.pid)
        forked_before = fork_server_cpu_seconds(worker.pid)

        first_trigger = time.time()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda _: orchestra.trigger("examples", "noop"), range(runs)))
        triggered = time.time()
        deadline = time.monotonic() + 60 + runs
        while count_final(orchestra) < runs:
            assert time.monotonic() < deadline, "the runs did not end in time"
            time.sleep(0.2)
        master_after, worker_after = cpu_seconds(orchestra.master.pid), cpu_seconds(worker.pid)
        forked_after = fork_server_cpu_seconds(worker.pid)
        finished = all_runs(orchestra)
        # One at a time: the latencies of a run that waits for nothing but Orchestra.
        watched = []
        for _ in range(sequential):
            # A random pause: the worker client reports states on a 50 ms tick, and runs
            # triggered as soon as the previous one is seen final would keep one phase of it.
            time.sleep(random.uniform(0, 0.1))
            watched.append(watch_one_run(orchestra))
        alone = [run for run, _ in watched]
    finally:
        orchestra.stop()

    statuses = {run["status"] for run in finished + alone}
    if statuses != {"succeeded"}:
        raise SystemExit(f"not every run succeeded: {statuses} (data directory {data})")
    shutil.rmtree(data, ignore_errors=True)
    created = [moment(run["created"]) for run in finished]
    started = [moment(run["started"]) for run in finished]
    completed = [moment(run["completed"]) for run in finished]
    return {
        "runs": runs,
        "executors": executors,
        "start": "fork server" if fork_server else "fresh interpreter per run",
        "trigger seconds": triggered - first_trigger,
        "seconds": max(completed) - first_trigger,
        "to running": [s - c for c, s in zip(created, started)],
        "running": [e - s for s, e in zip(started, completed)],
        "alone to running": [moment(run["started"]) - moment(run["created"]) for run in alone],
        "alone running": [moment(run["completed"]) - moment(run["started"]) for run in alone],
        # The executor's first act is to start the step: its start is the executor's.
        "alone to executor": [moment(run["steps"][0]["started"]) - moment(run["created"]) for run in alone],
        "alone seen final": [seconds for _, seconds in watched],
        "cpu master": master_after[0] - master_before[0],
        "cpu worker client": worker_after[0] - worker_before[0],
        # Executors (and their steps): spawned and reaped by the worker client, or forked and
        # reaped by its fork server (the server's own time included).
        "cpu executors": worker_after[1] - worker_before[1] + forked_after - forked_before,
    }


def report(figures: dict) -> None:
    print(f"{figures['runs']} runs of `true`, {figures['executors']} executors, {figures['start']}:")
    print(f"  all triggered in {figures['trigger seconds']:.2f} s "
          f"({figures['runs'] / figures['trigger seconds']:.1f} triggers/s)")
    print(f"  first trigger -> last succeeded: {figures['seconds']:.2f} s, "
          f"{figures['runs'] / figures['seconds']:.1f} runs/s")
    print(f"  trigger -> running:   {describe(figures['to running'])}")
    print(f"  running -> succeeded: {describe(figures['running'])}")
    print(f"  one run at a time ({len(figures['alone running'])} runs): trigger -> running "
          f"{describe(figures['alone to running'])}; running -> succeeded {describe(figures['alone running'])}")
    print(f"  one run at a time: trigger accepted -> executor started {describe(figures['alone to executor'])}; "
          f"trigger sent -> succeeded seen through the service {describe(figures['alone seen final'])}")
    print("  CPU per run: " + ", ".join(
        f"{name[4:]} {figures[name] / figures['runs'] * 1000:.1f} ms"
        for name in ("cpu master", "cpu worker client", "cpu executors")
    ) + " (the triggering client not counted)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--executors", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--triggering-threads", type=int, default=4)
    parser.add_argument("--one-at-a-time", type=int, default=20, help="runs triggered one after the other")
    parser.add_argument(
        "--start", choices=["fork-server", "spawn", "both"], default="both",
        help="how the worker client starts executors (spawn: --no-fork-server)",
    )
    arguments = parser.parse_args()

    starts = {"fork-server": [True], "spawn": [False], "both": [False, True]}[arguments.start]
    for executors in arguments.executors:
        for fork_server in starts:
            report(measure(
                arguments.runs, executors, arguments.triggering_threads, fork_server, arguments.one_at_a_time
            ))

if __name__ == "__main__":
    main()
