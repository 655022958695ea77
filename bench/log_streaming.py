"""Log streaming benchmark: real runmaster + runworker_client on loopback, temp data, SQLite
or a fresh PostgreSQL database, logs in files or in the database.

Targets (issue 16): a step writing 200 MB as fast as the machine can is stored on the master
at 40 MB/s or more; a line printed by a running step is readable through the service within
100 ms p50 and 300 ms p95.

0. Bulk: a step writes 200 MB (`yes | head -c 200000000`). Prints the step's own time, the
   time from the step's start to the run `succeeded` on the master (which accepts a final
   status only once it holds every log byte), the rate that makes, and verifies the log read
   back through the service byte for byte.
1. Flood: a step prints 100,000 numbered, timestamped lines (about 6 MB) as fast as it can.
   Prints the time from trigger to a complete, verified log on the master (read through the
   service), the transfer rate, and how long lines waited between print and readability.
2. Paced: a step prints a line every 20 ms; prints the delay between a line being printed
   and it being readable through the service (what a person following a live log sees).

    .venv/bin/python bench/log_streaming.py [--bytes 200000000] [--lines 100000] [--paced-lines 250]
                                            [--log-store file|database] [--database sqlite|postgresql]
"""

import argparse
import datetime
import statistics
import sys
import tempfile
import time
import urllib.request
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.throughput import cpu_seconds  # noqa: E402
from tests.e2e.harness import FINAL, Orchestra  # noqa: E402
from tests.postgres import fresh_postgres_database  # noqa: E402

LOG_STORES = {"file": "runs.logstore.FileLogStore", "database": "runs.logstore.DatabaseLogStore"}


def follow(orchestra: Orchestra, identifier: str) -> tuple[bytes, list[float], float]:
    """Read the log through the service by offset until the run ended and all of it is read.

    Returns the log, each line's delay from print to first read, and when the end was read.
    """
    data, delays = b"", []
    while True:
        request = urllib.request.Request(
            f"{orchestra.url}/api/runs/{identifier}/steps/0/log?offset={len(data)}"
        )
        request.add_header("Authorization", f"Bearer {orchestra.admin_token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                chunk = response.read()
                size = int(response.headers["X-Log-Size"])
                status = response.headers["X-Run-Status"]
        except urllib.error.HTTPError:
            time.sleep(0.01)
            continue
        now = time.time()
        # A read racing an append may end inside a line: count lines once they are whole.
        whole = (data[data.rfind(b"\n") + 1:] + chunk).rsplit(b"\n", 1)[0] if b"\n" in chunk else b""
        for line in whole.splitlines():
            try:
                delays.append(now - float(line.split()[1]))
            except (IndexError, ValueError):
                raise SystemExit(f"unexpected line in the log: {line!r}")
        data += chunk
        if status in FINAL and len(data) >= size:
            return data, delays, now
        if not chunk:
            time.sleep(0.01)


def verify(data: bytes, lines: int) -> None:
    numbers = [int(line.split()[0]) for line in data.splitlines()]
    if numbers != list(range(1, lines + 1)) or not data.endswith(b"\n"):
        raise SystemExit("the log on the master is not complete and in order")


# What the bulk step writes: `yes` prints "y\n" forever.
BULK_PATTERN = b"y\n" * (1 << 19)
# The log is read back through the service in slices of this many bytes.
READ_BYTES = 16 * 1024 * 1024


def verify_bulk(orchestra: Orchestra, identifier: str, size: int) -> None:
    """Read the whole log through the service and compare it with what `yes` wrote."""
    offset = 0
    while offset < size:
        request = urllib.request.Request(
            f"{orchestra.url}/api/runs/{identifier}/steps/0/log?offset={offset}&limit={READ_BYTES}"
        )
        request.add_header("Authorization", f"Bearer {orchestra.admin_token}")
        with urllib.request.urlopen(request, timeout=120) as response:
            chunk = response.read()
            stored = int(response.headers["X-Log-Size"])
        if stored != size or not chunk:
            raise SystemExit(f"the log on the master holds {stored} bytes, not {size}")
        # Offsets stay even, so every slice starts at a "y".
        for start in range(0, len(chunk), len(BULK_PATTERN)):
            piece = chunk[start:start + len(BULK_PATTERN)]
            if piece != BULK_PATTERN[:len(piece)]:
                raise SystemExit(f"the log on the master differs from what the step wrote near byte {offset + start}")
        offset += len(chunk)


def timestamp(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def bulk(orchestra: Orchestra, worker_pid: int, size: int) -> None:
    cpu_before = cpu_seconds(orchestra.master.pid)[0], cpu_seconds(worker_pid)[0]
    triggered = time.time()
    run = orchestra.trigger("bench", "bulk", {"bytes": size})
    finished = orchestra.wait_for_run(run["identifier"], timeout=600)
    seen = time.time()
    master_cpu = cpu_seconds(orchestra.master.pid)[0] - cpu_before[0]
    worker_cpu = cpu_seconds(worker_pid)[0] - cpu_before[1]
    if finished["status"] != "succeeded":
        raise SystemExit(f"the bulk run ended {finished['status']}: {finished.get('message')}")
    step = finished["steps"][0]
    started, step_completed = timestamp(step["started"]), timestamp(step["completed"])
    completed = timestamp(finished["completed"])
    verify_bulk(orchestra, run["identifier"], size)
    megabytes = size / 1e6
    print(f"bulk: {megabytes:.0f} MB of `yes`, run {finished['status']}, verified byte for byte")
    print(f"  the step itself writing them: {step_completed - started:.2f} s")
    print(f"  step started -> run succeeded on the master (every byte stored): {completed - started:.2f} s")
    print(f"  stored at: {megabytes / (completed - started):.1f} MB/s (target: 40 MB/s or more)")
    print(f"  trigger -> succeeded seen through the service: {seen - triggered:.2f} s")
    print(f"  CPU per 100 MB: master {master_cpu / megabytes * 100:.2f} s, worker client "
          f"{worker_cpu / megabytes * 100:.2f} s")


def describe(delays: list[float]) -> str:
    ordered = sorted(delays)
    percentile = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"median {statistics.median(ordered) * 1000:.0f} ms, 95th percentile "
        f"{percentile * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--bytes", type=int, default=200_000_000, help="the bulk step's size (0: skip it)")
    parser.add_argument("--lines", type=int, default=100000)
    parser.add_argument("--paced-lines", type=int, default=250)
    parser.add_argument("--log-store", choices=LOG_STORES, default="file",
                        help="where the master keeps logs (ORCHESTRA_LOG_STORE)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite",
                        help="postgresql: a fresh database on 127.0.0.1:5432, dropped afterwards")
    arguments = parser.parse_args()

    with fresh_postgres_database() if arguments.database == "postgresql" else nullcontext() as url:
        env = {"ORCHESTRA_LOG_STORE": LOG_STORES[arguments.log_store]}
        if url:
            env["ORCHESTRA_DATABASE_URL"] = url
        orchestra = Orchestra(Path(tempfile.mkdtemp(prefix="orchestra-bench-")), "bench.configuration", env)
        print(f"{arguments.database}, {arguments.log_store} log store")
        stream(orchestra, arguments)


def stream(orchestra: Orchestra, arguments: argparse.Namespace) -> None:
    try:
        orchestra.start_master()
        worker = orchestra.start_worker("bench-worker")
        orchestra.wait_for_run(orchestra.trigger("examples", "hello")["identifier"])  # warm up
        if arguments.bytes:
            bulk(orchestra, worker.pid, arguments.bytes)

        triggered = time.time()
        run = orchestra.trigger("bench", "timestamped", {"lines": arguments.lines, "pause": 0})
        data, delays, completed = follow(orchestra, run["identifier"])
        verify(data, arguments.lines)
        status = orchestra.run(run["identifier"])["status"]
        first_printed = float(data.split(b" ", 2)[1])
        last_printed = float(data.rsplit(b"\n", 2)[-2].split()[1])
        megabytes = len(data) / 1e6
        print(f"flood: {arguments.lines} lines, {megabytes:.2f} MB, run {status}")
        print(f"  trigger -> first line printed (dispatch + executor start): {first_printed - triggered:.3f} s")
        print(f"  the step printed for {last_printed - first_printed:.2f} s")
        print(f"  trigger -> complete, verified log read through the service: {completed - triggered:.2f} s")
        print(f"  last line printed -> readable through the service: {completed - last_printed:.3f} s")
        print(f"  transfer rate (first line printed -> last line readable): "
              f"{megabytes / (completed - first_printed):.1f} MB/s")
        print(f"  print -> readable through the service: {describe(delays)}")

        run = orchestra.trigger("bench", "timestamped", {"lines": arguments.paced_lines, "pause": 0.02})
        data, delays, _ = follow(orchestra, run["identifier"])
        verify(data, arguments.paced_lines)
        print(f"paced: {arguments.paced_lines} lines, one every 20 ms")
        print(f"  print -> readable through the service: {describe(delays)} "
              "(target: p50 under 100 ms, p95 under 300 ms)")
    finally:
        orchestra.stop()


if __name__ == "__main__":
    main()
