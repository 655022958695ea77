"""Fleet benchmark: does every connected worker make every run cost more?

A real runmaster (SQLite, temporary data directory, configuration `bench.configuration`), one
real runworker_client with the property `pool=fleet` (the only worker that matches the job
`bench/fleet`, one step `true`), and N idle workers that never match (`pool=idle`): lightweight
protocol clients, all in one child process (asyncio and `websockets`), connected with the token
of a worker-role user of their own. Each sends `hello` with its identifier and properties,
answers pings (the `websockets` library does), and answers any `run.start` with an error: they
should never get one, and the count is printed.

For each number of idle workers (a fresh installation each time):

1. the master's CPU time per second while nothing runs (keep-alive refreshes and sweeps);
2. M runs of `bench/fleet` triggered one at a time, each awaited until final: created ->
   started (the master's own timestamps) p50 / p95 / max, and the master's CPU time per run;
3. M runs triggered at once from a few threads: the same figures, and the time from the first
   trigger to the last run final.

The master's CPU time comes from /proc/<pid>/stat before and after each phase. Runs are
awaited by reading the SQLite database directly (read-only), so waiting costs the master
nothing; the timestamps are read through the service afterwards.

    .venv/bin/python bench/fleet.py [--idle 0 200] [--runs 100] [--executors 4]
                                    [--triggering-threads 4] [--idle-seconds 15]
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FINAL = ("succeeded", "failed", "aborted", "exception", "cancelled", "skipped")


# The idle fleet (child process, no Django) ------------------------------------------------------

async def idle_worker(index: int, url: str, token: str, gate: asyncio.Semaphore,
                      counts: Counter, ready: asyncio.Queue, stop: asyncio.Event) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    identifier = f"idle-{index:03d}"
    hello = {
        "type": "hello", "id": 1, "identifier": identifier, "version": "bench-idle",
        "properties": {"pool": "idle", "os": "linux"}, "executors": 2, "runs": [],
    }
    try:
        async with gate:
            connection = await connect(
                url, additional_headers={"Authorization": f"Bearer {token}"}, proxy=None,
                compression=None, max_size=2**20, open_timeout=120,
            )
            await connection.send(json.dumps(hello))
            while True:
                answer = json.loads(await asyncio.wait_for(connection.recv(), 120))
                if answer.get("id") == 1 and answer.get("type") in ("response", "error"):
                    break
                counts[f"before hello answer: {answer.get('type')}"] += 1
            if answer["type"] != "response":
                counts[f"hello refused: {answer.get('error')}"] += 1
                await connection.close()
                await ready.put(False)
                return
        await ready.put(True)
        reader = asyncio.ensure_future(read_messages(identifier, connection, counts))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({reader, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if reader.done() and not stop.is_set():
            counts["connections closed by the master"] += 1
        reader.cancel()
        stopping.cancel()
        try:
            await connection.close()
        except ConnectionClosed:
            pass
    except Exception as error:  # noqa: BLE001 - counted and reported, the fleet goes on
        counts[f"failed: {type(error).__name__}: {error}"] += 1
        await ready.put(False)


async def read_messages(identifier: str, connection, counts: Counter) -> None:
    async for raw in connection:
        message = json.loads(raw)
        kind = message.get("type")
        counts[f"received {kind}"] += 1
        if kind in ("run.start", "run.abort"):
            # An idle worker takes nothing: it says so, as a worker that cannot start a run does.
            await connection.send(json.dumps({
                "type": "error", "id": message.get("id"),
                "error": f"{identifier} is an idle benchmark worker and takes no runs",
            }))


async def idle_fleet(url: str, token: str, count: int) -> None:
    """Connect `count` idle workers; print one JSON line once all said hello, then, when stdin
    closes, disconnect them and print what they received."""
    counts: Counter = Counter()
    ready: asyncio.Queue = asyncio.Queue()
    stop = asyncio.Event()
    gate = asyncio.Semaphore(20)  # handshakes at once
    started = time.monotonic()
    tasks = [
        asyncio.ensure_future(idle_worker(index, url, token, gate, counts, ready, stop))
        for index in range(count)
    ]
    connected = 0
    for _ in range(count):
        connected += await ready.get()
    print(json.dumps({"connected": connected, "seconds": time.monotonic() - started}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    stop.set()
    await asyncio.gather(*tasks)
    print(json.dumps({"counts": dict(counts)}), flush=True)


# The benchmark ----------------------------------------------------------------------------------

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


def cpu_seconds(pid: int) -> float:
    """CPU time of a process itself (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise SystemExit(f"no VmRSS for process {pid}")


class Database:
    """The installation's SQLite database, read-only: is a run final yet?"""

    def __init__(self, path: Path):
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)

    def final(self, identifiers: list[str]) -> int:
        marks = ",".join("?" * len(identifiers))
        statuses = ",".join("?" * len(FINAL))
        return self.connection.execute(
            f"SELECT COUNT(*) FROM runs_run WHERE identifier IN ({marks}) AND status IN ({statuses})",
            [*identifiers, *FINAL],
        ).fetchone()[0]

    def wait(self, identifiers: list[str], timeout: float, interval: float = 0.02) -> None:
        deadline = time.monotonic() + timeout
        while self.final(identifiers) < len(identifiers):
            if time.monotonic() > deadline:
                raise SystemExit(f"runs not final after {timeout} s")
            time.sleep(interval)


def fetch_runs(orchestra, identifiers: list[str]) -> list[dict]:
    return [orchestra.run(identifier) for identifier in identifiers]


def measure(idle: int, runs: int, executors: int, threads: int, idle_seconds: float) -> dict:
    from tests.e2e.harness import Orchestra

    data = Path(tempfile.mkdtemp(prefix="orchestra-bench-fleet-"))
    orchestra = Orchestra(data, "bench.configuration")
    fleet = None
    figures: dict = {"idle": idle, "runs": runs, "executors": executors}
    try:
        fleet_token = orchestra.create_user("fleet", "worker") if idle else None
        orchestra.start_master()
        master = orchestra.master.pid
        orchestra.start_worker("bench-fleet", {"pool": "fleet"}, executors=executors)
        database = Database(orchestra.data_dir / "orchestra.sqlite3")
        # Warm up: the real worker is connected, the master's code paths are loaded.
        database.wait([orchestra.trigger("bench", "fleet")["identifier"]], 120)
        figures["master bytes"] = resident_bytes(master)
        if idle:
            fleet = subprocess.Popen(
                [sys.executable, __file__, "--idle-fleet-child", orchestra.ws_url, fleet_token, str(idle)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
            )
            line = fleet.stdout.readline()
            if not line:
                raise SystemExit("the idle fleet exited before connecting")
            connected = json.loads(line)
            figures["connected"] = connected["connected"]
            figures["connect seconds"] = connected["seconds"]
            warm = orchestra.trigger("bench", "fleet")["identifier"]
            database.wait([warm], 120)
            figures["master bytes per idle worker"] = (
                (resident_bytes(master) - figures["master bytes"]) / max(1, connected["connected"])
            )

        before, moment_before = cpu_seconds(master), time.monotonic()
        time.sleep(idle_seconds)
        figures["idle cpu per second"] = (cpu_seconds(master) - before) / (time.monotonic() - moment_before)

        # One at a time: nothing queued, each run awaited before the next.
        before, moment_before = cpu_seconds(master), time.monotonic()
        alone = []
        for _ in range(runs):
            alone.append(orchestra.trigger("bench", "fleet")["identifier"])
            database.wait(alone[-1:], 120)
        figures["alone cpu"] = cpu_seconds(master) - before
        figures["alone wall"] = time.monotonic() - moment_before

        # A burst: every run triggered at once, from a few threads.
        before, first, moment_before = cpu_seconds(master), time.time(), time.monotonic()
        with ThreadPoolExecutor(threads) as pool:
            burst = list(pool.map(lambda _: orchestra.trigger("bench", "fleet")["identifier"], range(runs)))
        figures["trigger seconds"] = time.time() - first
        database.wait(burst, 60 + 10 * runs, interval=0.1)
        figures["burst cpu"] = cpu_seconds(master) - before
        figures["burst wall"] = time.monotonic() - moment_before

        alone_runs, burst_runs = fetch_runs(orchestra, alone), fetch_runs(orchestra, burst)
        figures["alone"] = [moment(run["started"]) - moment(run["created"]) for run in alone_runs if run["started"]]
        figures["burst"] = [moment(run["started"]) - moment(run["created"]) for run in burst_runs if run["started"]]
        figures["burst seconds"] = max(moment(run["completed"]) for run in burst_runs) - first
        figures["not succeeded"] = [
            (run["identifier"], run["status"], run["status_message"], run["worker"])
            for run in alone_runs + burst_runs if run["status"] != "succeeded"
        ]
        figures["workers used"] = Counter(run["worker"] for run in alone_runs + burst_runs)
        if fleet is not None:
            fleet.stdin.close()
            figures["fleet"] = json.loads(fleet.stdout.read().strip().splitlines()[-1])["counts"]
            fleet.wait(timeout=60)
            fleet = None
    finally:
        if fleet is not None and fleet.poll() is None:
            os.killpg(fleet.pid, signal.SIGKILL)
            fleet.wait()
        orchestra.stop()
    if figures.get("not succeeded") == []:
        shutil.rmtree(data, ignore_errors=True)
    figures["data"] = str(data)
    return figures


def report(figures: dict) -> None:
    runs = figures["runs"]
    print(f"{figures['idle']} idle workers beside the matching one ({figures['executors']} executors):")
    if figures["idle"]:
        print(f"  fleet: {figures['connected']} of {figures['idle']} connected in {figures['connect seconds']:.1f} s; "
              f"messages they received: {figures['fleet'] or 'none'}")
        print(f"  master resident memory {figures['master bytes'] / 1e6:.0f} MB before the fleet, "
              f"{figures['master bytes per idle worker'] / 1e3:.0f} KB more per idle worker")
    print(f"  master CPU with nothing to do: {figures['idle cpu per second'] * 1000:.0f} ms per second")
    for phase, title in (("alone", f"one at a time ({runs} runs)"),
                         ("burst", f"burst ({runs} runs, triggered in {figures['trigger seconds']:.1f} s)")):
        at_rest = figures["idle cpu per second"] * figures[f"{phase} wall"] / runs
        print(f"  {title}: created -> started {describe(figures[phase])}; "
              f"{runs} runs final in {figures[f'{phase} wall']:.1f} s; master CPU per run "
              f"{figures[f'{phase} cpu'] / runs * 1000:.0f} ms (of which {at_rest * 1000:.1f} ms the rate at rest)")
    print(f"  runs per worker: {dict(figures['workers used'])}")
    if figures["not succeeded"]:
        print(f"  NOT SUCCEEDED: {figures['not succeeded']} (data directory {figures['data']})")
    print(flush=True)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--idle-fleet-child":
        asyncio.run(idle_fleet(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--idle", type=int, nargs="+", default=[0, 200], help="idle workers connected")
    parser.add_argument("--runs", type=int, default=100, help="runs one at a time, then as many at once")
    parser.add_argument("--executors", type=int, default=4, help="of the matching worker")
    parser.add_argument("--triggering-threads", type=int, default=4)
    parser.add_argument(
        "--idle-seconds", type=float, default=30,
        help="to measure the master at rest (30 s: one keep-alive refresh of every connected worker)",
    )
    arguments = parser.parse_args()
    print(f"{datetime.now().isoformat(timespec='seconds')}, load average {os.getloadavg()}", flush=True)
    failed = False
    for idle in arguments.idle:
        figures = measure(idle, arguments.runs, arguments.executors, arguments.triggering_threads,
                          arguments.idle_seconds)
        report(figures)
        failed |= bool(figures["not succeeded"]) or any(
            key.startswith("received run.") for key in figures.get("fleet", {})
        )
    print(f"{datetime.now().isoformat(timespec='seconds')}, load average {os.getloadavg()}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
