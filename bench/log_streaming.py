"""Log streaming benchmark: real runmaster + runworker_client on loopback, temp data, SQLite
or a fresh PostgreSQL database, logs in files or in the database.

1. Flood: a step prints 100,000 numbered, timestamped lines (about 6 MB) as fast as it can.
   Prints the time from trigger to a complete, verified log on the master (read through the
   service), the transfer rate, and how long lines waited between print and readability.
2. Paced: a step prints a line every 20 ms; prints the delay between a line being printed
   and it being readable through the service (what a person following a live log sees).

    .venv/bin/python bench/log_streaming.py [--lines 100000] [--log-store file|database]
                                            [--database sqlite|postgresql]
"""

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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


def describe(delays: list[float]) -> str:
    ordered = sorted(delays)
    percentile = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"median {statistics.median(ordered) * 1000:.0f} ms, 95th percentile "
        f"{percentile * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
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
        orchestra.start_worker("bench-worker")
        orchestra.wait_for_run(orchestra.trigger("examples", "hello")["identifier"])  # warm up

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
        print(f"  print -> readable through the service: {describe(delays)}")
    finally:
        orchestra.stop()


if __name__ == "__main__":
    main()
