"""Outcomes under load: do 2,000 trivial runs all end `succeeded` with the CPU busy beside them?

A real runmaster (SQLite, temporary data directory, configuration `bench.configuration`) and 4
real runworker_client processes (2 executors each) on loopback, with a CPU-bound process
(`sha256sum /dev/zero`, one core's worth) running beside them from before the first trigger to
after the last run ended. 2,000 runs of `bench/true` (one step: `true`) are triggered through
the service from 4 threads at once, as fast as it takes them; then every run is awaited until
final. Prints how many runs ended in each status, every run that did not succeed with its
status message, its steps and what the master's and workers' logs say about it, the wall
time and the runs per second.

Exits with 1 if any run did not succeed (or a trigger was refused, or runs stopped ending), so
the installation's data directory (logs of every process in `output/`) is kept and named.

    .venv/bin/python bench/outcomes.py [--runs 2000] [--workers 4] [--executors 2]
                                       [--triggering-threads 4] [--hogs 1] [--keep]
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.harness import FINAL, Orchestra  # noqa: E402


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * fraction) - 1))]


def describe(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    return (
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {percentile(ordered, 0.95) * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )


def moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_final(orchestra: Orchestra) -> int:
    statuses = "&".join(f"status={status}" for status in FINAL)
    status, body = orchestra.api("GET", f"/api/runs?project=bench&job=true&{statuses}&page_size=1")
    assert status == 200, body
    return body["count"]


def all_runs(orchestra: Orchestra) -> list[dict]:
    runs, page = [], 1
    while True:
        status, body = orchestra.api("GET", f"/api/runs?project=bench&job=true&page_size=500&page={page}")
        assert status == 200, body
        runs += body["results"]
        if not body["next"]:
            return runs
        page += 1


def wait_for_workers(orchestra: Orchestra, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status, body = orchestra.api("GET", "/api/workers?page_size=500")
        if status == 200 and sum(worker["is_connected"] for worker in body["results"]) >= count:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{count} workers did not connect within {timeout} s")
        time.sleep(0.2)


def log_lines(orchestra: Orchestra, needle: str) -> dict[str, list[str]]:
    """Lines of each process's output that mention `needle`."""
    found = {}
    for path in sorted(orchestra.output_dir.glob("*.log")):
        lines = [line for line in path.read_text(errors="replace").splitlines() if needle in line]
        if lines:
            found[path.stem] = lines
    return found


def log_trouble(orchestra: Orchestra) -> dict[str, Counter]:
    """Warnings, errors and tracebacks in each process's output, by text (times cut off)."""
    trouble = {}
    for path in sorted(orchestra.output_dir.glob("*.log")):
        counts = Counter()
        for line in path.read_text(errors="replace").splitlines():
            for word in ("WARNING", "ERROR", "CRITICAL", "Traceback"):
                if word in line:
                    counts[line[line.index(word):][:160]] += 1
                    break
        if counts:
            trouble[path.stem] = counts
    return trouble


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--executors", type=int, default=2, help="of each worker")
    parser.add_argument("--triggering-threads", type=int, default=4)
    parser.add_argument("--hogs", type=int, default=1, help="CPU-bound processes running beside")
    parser.add_argument("--stall", type=float, default=120, help="give up after this long without a run ending")
    parser.add_argument("--keep", action="store_true", help="keep the data directory even if all succeeded")
    arguments = parser.parse_args()

    print(f"{datetime.now().isoformat(timespec='seconds')}, load average {os.getloadavg()}, "
          f"{os.cpu_count()} CPUs", flush=True)
    data = Path(tempfile.mkdtemp(prefix="orchestra-bench-outcomes-"))
    orchestra = Orchestra(data, "bench.configuration")
    hogs: list[subprocess.Popen] = []
    refused: list[tuple] = []
    stalled = False
    try:
        orchestra.start_master()
        for number in range(1, arguments.workers + 1):
            orchestra.start_worker(f"bench-{number}", executors=arguments.executors)
        wait_for_workers(orchestra, arguments.workers)
        # Warm up (a run of another job, not counted): the master's code paths are loaded.
        orchestra.wait_for_run(orchestra.trigger("examples", "hello")["identifier"])

        hogs = [
            subprocess.Popen(["sha256sum", "/dev/zero"], stdout=subprocess.DEVNULL, start_new_session=True)
            for _ in range(arguments.hogs)
        ]
        time.sleep(1)
        hog_start, hog_cpu_start = time.monotonic(), sum(cpu_seconds(hog.pid) for hog in hogs)
        master_cpu_start = cpu_seconds(orchestra.master.pid)

        lock = threading.Lock()

        def trigger(_):
            status, body = orchestra.api("POST", "/api/projects/bench/jobs/true/trigger", {"parameters": {}})
            if status != 201:
                with lock:
                    refused.append((status, body))

        first = time.time()
        with ThreadPoolExecutor(arguments.triggering_threads) as pool:
            list(pool.map(trigger, range(arguments.runs)))
        triggered = time.time() - first
        print(f"{arguments.runs} triggers sent in {triggered:.1f} s ({len(refused)} refused)", flush=True)

        expected = arguments.runs - len(refused)
        final, last_change, last_print = 0, time.monotonic(), 0.0
        while final < expected:
            time.sleep(1)
            now_final = count_final(orchestra)
            if now_final != final:
                final, last_change = now_final, time.monotonic()
            if time.monotonic() - last_print > 30:
                print(f"  {final} of {expected} final after {time.time() - first:.0f} s", flush=True)
                last_print = time.monotonic()
            if time.monotonic() - last_change > arguments.stall:
                stalled = True
                print(f"no run ended for {arguments.stall:.0f} s: giving up waiting", flush=True)
                break
        waited = time.time() - first
        hog_cpu = sum(cpu_seconds(hog.pid) for hog in hogs) - hog_cpu_start
        hog_wall = time.monotonic() - hog_start
        master_cpu = cpu_seconds(orchestra.master.pid) - master_cpu_start
        for hog in hogs:
            os.killpg(hog.pid, signal.SIGKILL)
            hog.wait()
        hogs = []

        runs = all_runs(orchestra)
        statuses = Counter(run["status"] for run in runs)
        ended = [run for run in runs if run["completed"]]
        last = max((moment(run["completed"]) for run in ended), default=first)
        print()
        print(f"{len(runs)} runs of bench/true over {arguments.workers} workers x {arguments.executors} executors, "
              f"{arguments.hogs} CPU-bound process(es) beside them "
              f"(they used {hog_cpu / hog_wall:.2f} CPUs on average)")
        print("  ended: " + ", ".join(f"{status} {count}" for status, count in statuses.most_common()))
        print(f"  first trigger -> last run final: {last - first:.1f} s, "
              f"{len(ended) / (last - first):.1f} runs/s (triggers took {triggered:.1f} s)")
        drained = [run for run in ended if moment(run["completed"]) > first + triggered]
        if drained and last > first + triggered:
            print(f"  after the last trigger (the queue draining): {len(drained)} runs ended in "
                  f"{last - first - triggered:.1f} s, {len(drained) / (last - first - triggered):.1f} runs/s")
        waits = [moment(run["started"]) - moment(run["created"]) for run in runs if run["started"]]
        print(f"  created -> started: {describe(waits)}")
        durations = [moment(run["completed"]) - moment(run["started"]) for run in ended if run["started"]]
        print(f"  started -> completed: {describe(durations)}")
        print(f"  master CPU per run: {master_cpu / max(1, len(runs)) * 1000:.0f} ms")
        print(f"  runs per worker: {dict(sorted(Counter(str(run['worker']) for run in runs).items()))}")
        if refused:
            print(f"  triggers refused: {len(refused)}: "
                  f"{Counter(str(item) for item in refused).most_common(5)}")
        trouble = log_trouble(orchestra)
        for process, counts in trouble.items():
            print(f"  {process} log: {sum(counts.values())} warnings/errors; most frequent:")
            for text, count in counts.most_common(5):
                print(f"    {count} x {text}")

        failures = [run for run in runs if run["status"] != "succeeded"]
        for run in failures:
            detail = orchestra.run(run["identifier"])
            steps = [(step["name"], step["status"], step["log_size"]) for step in detail.get("steps", [])]
            print(f"\n  NOT SUCCEEDED {run['identifier']} ({run['status']}) on {run['worker']}: "
                  f"{run['status_message']!r}")
            print(f"    created {run['created']}, started {run['started']}, "
                  f"completed {run['completed']}; steps {steps}")
            for process, lines in log_lines(orchestra, run["identifier"]).items():
                print(f"    {process}:")
                for line in lines[:20]:
                    print(f"      {line[:300]}")
        ok = not failures and not refused and not stalled and len(runs) == arguments.runs
    finally:
        for hog in hogs:
            try:
                os.killpg(hog.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            hog.wait()
        orchestra.stop()
    print(f"\n{datetime.now().isoformat(timespec='seconds')}, load average {os.getloadavg()}")
    if ok and not arguments.keep:
        shutil.rmtree(data, ignore_errors=True)
    else:
        print(f"data directory kept: {data} (each process's output in {orchestra.output_dir})")
    print("ALL SUCCEEDED" if ok else "NOT ALL SUCCEEDED", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
