"""Every benchmark, one table: Orchestra's figures against issue 16's targets (`make bench`).

    .venv/bin/python bench/targets.py [--quick] [--runs 200] [--fleet 200] [--history 1000 100000]
                                      [--buildbot PATH] [--skip throughput fleet history logs buildbot]

Runs, one after the other, each on a fresh installation (real runmaster and runworker_client
processes on loopback, SQLite, temporary data directories):

- throughput (`bench/throughput.py`): 200 runs of `examples/noop` on one worker with 4
  executors, triggered at once from 4 threads; then 20 runs one at a time, each watched through
  the service until final;
- fleet (`bench/fleet.py`): a lone run's created -> started and the master's CPU per run with
  no idle workers and with 200 connected idle workers, and the master's memory per worker;
- history: for each size, a database filled with that many finished runs (`bench/pages.py
  --finished-only`, which then times the website's pages in its process), then a master
  started on it: 20 runs of `examples/noop` one at a time, created -> started;
- logs (`bench/log_streaming.py`, run as it is): transfer rate and print -> readable delay;
- Buildbot (`--buildbot`, default `../shared/peers/buildbot/run.sh` beside the repository),
  when that harness is at hand: its builds per second for the same 200 trivial runs.

Every sub-benchmark prints its own detailed output first; the table comes last. The figures
depend on the machine and what else runs on it: the header says when, where and the load.
The 1,000,000-run history of the target takes long to fill (about a minute per 100,000 runs
here): `--history 1000 1000000` (`make bench HISTORY="1000 1000000"`).
"""

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import fleet, throughput  # noqa: E402
from tests.e2e.harness import Orchestra  # noqa: E402

HISTORY_PAGES = {"runs list": "runs list", "run page": "run page (5,000-line log)", "overview": "overview"}


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    return throughput.percentile(sorted(values), 0.95)


class Table:
    """Rows of (measure, target, Orchestra, Buildbot, met)."""

    def __init__(self):
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, measure: str, target: str, figure: str, met: bool | None, buildbot: str = "") -> None:
        self.rows.append((measure, target, figure, buildbot, {True: "yes", False: "NO", None: ""}[met]))

    def print(self) -> None:
        print("| measure | target | Orchestra | Buildbot | met |")
        print("|---|---|---:|---:|---|")
        for row in self.rows:
            print("| " + " | ".join(row) + " |")


def section(title: str) -> None:
    print(f"\n== {title} ({datetime.now().strftime('%H:%M:%S')}, load average "
          f"{' '.join(f'{load:.1f}' for load in os.getloadavg())})", flush=True)


def measure_throughput(table: Table, runs: int, one_at_a_time: int, buildbot: dict) -> None:
    section(f"throughput: {runs} runs of examples/noop, 4 executors")
    figures = throughput.measure(runs, 4, 4, True, one_at_a_time)
    throughput.report(figures)
    rate = runs / figures["seconds"]
    if "throughput" in buildbot:
        ratio = rate / buildbot["throughput"]
        table.add(f"runs per second, 4 executors, {runs} trivial runs", "10 × Buildbot",
                  f"{rate:.1f} ({ratio:.1f} × Buildbot)", ratio >= 10, f"{buildbot['throughput']:.1f}")
    else:
        table.add(f"runs per second, 4 executors, {runs} trivial runs", "10 × Buildbot (about 40)",
                  f"{rate:.1f}", None, "not measured")
    cpu = figures["cpu master"] / runs
    table.add("master CPU per run", "≤ 15 ms", milliseconds(cpu), cpu <= 0.015)
    to_executor = figures["alone to executor"]
    table.add("idle: trigger accepted → executor started, p50", "< 10 ms",
              milliseconds(p50(to_executor)), p50(to_executor) < 0.010)
    table.add("idle: trigger accepted → executor started, p95", "< 30 ms",
              milliseconds(p95(to_executor)), p95(to_executor) < 0.030)
    seen = figures["alone seen final"]
    table.add("idle: trigger → `succeeded` seen through the service, p50", "< 50 ms",
              milliseconds(p50(seen)), p50(seen) < 0.050)


def measure_fleet(table: Table, idle: int, runs: int, idle_seconds: float) -> None:
    results = {}
    for count in (0, idle):
        section(f"fleet: {count} idle workers beside the matching one")
        figures = fleet.measure(count, runs, 4, 4, idle_seconds)
        fleet.report(figures)
        if figures["not succeeded"]:
            raise SystemExit(f"fleet: runs did not succeed: {figures['not succeeded']}")
        results[count] = figures
    crowded, alone = results[idle], results[0]
    table.add(f"{idle} connected workers: trigger → running, p95 (one at a time)", "< 50 ms",
              milliseconds(p95(crowded["alone"])), p95(crowded["alone"]) < 0.050)
    per_worker = crowded["master bytes per idle worker"]
    table.add(f"{idle} connected workers: master memory per worker", "< 200 KB",
              f"{per_worker / 1000:.0f} KB", per_worker < 200_000)
    ratio = crowded["alone cpu"] / alone["alone cpu"]
    table.add(f"{idle} connected workers: master CPU per run against none", "within 20 %",
              f"{crowded['alone cpu'] / runs * 1000:.0f} against {alone['alone cpu'] / runs * 1000:.0f} ms "
              f"({(ratio - 1) * 100:+.0f} %)", ratio <= 1.2)
    received = {key: value for key, value in crowded.get("fleet", {}).items() if key.startswith("received run.")}
    table.add("a trigger offers the run to the matching worker alone", "idle workers get nothing",
              "none" if not received else str(received), not received)


def pages_table(output: str) -> dict[str, float]:
    """p95 by page from bench/pages.py's Markdown table."""
    p95s = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"[\d.]+", cells[3]):
            p95s[cells[0]] = float(cells[3]) / 1000
    return p95s


def measure_history_size(size: int, one_at_a_time: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="orchestra-bench-history-"))
    orchestra = Orchestra(data, "bench.configuration")
    try:
        filled = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "pages.py"), "--runs", str(size), "--repeat", "40",
             "--finished-only", "--data-dir", str(orchestra.data_dir)],
            env={**orchestra.env, "ORCHESTRA_LOG_LEVEL": "WARNING"}, cwd=ROOT, capture_output=True,
            text=True, check=False,
        )
        print(filled.stdout, filled.stderr[-2000:], flush=True)
        if filled.returncode:
            raise SystemExit(f"bench/pages.py failed for {size} runs")
        orchestra.start_master()
        orchestra.start_worker("bench-worker", executors=4)
        orchestra.wait_for_run(orchestra.trigger("examples", "noop")["identifier"], timeout=120)
        runs = [
            orchestra.wait_for_run(orchestra.trigger("examples", "noop")["identifier"], timeout=120)
            for _ in range(one_at_a_time)
        ]
    finally:
        orchestra.stop()
        shutil.rmtree(data, ignore_errors=True)  # a million runs take a gigabyte
    if {run["status"] for run in runs} != {"succeeded"}:
        raise SystemExit(f"history {size}: not every run succeeded")
    to_running = [throughput.moment(run["started"]) - throughput.moment(run["created"]) for run in runs]
    print(f"  {size} runs in the database: trigger -> running {throughput.describe(to_running)}", flush=True)
    return {"to running": to_running, "pages": pages_table(filled.stdout)}


def measure_history(table: Table, sizes: list[int], one_at_a_time: int) -> None:
    results = {}
    for size in sizes:
        section(f"history: {size:,} runs in the database (SQLite)")
        results[size] = measure_history_size(size, one_at_a_time)
    small, large = min(sizes), max(sizes)
    before, after = p50(results[small]["to running"]), p50(results[large]["to running"])
    table.add(f"history: trigger → running p50, {large:,} against {small:,} runs", "within 20 %",
              f"{milliseconds(after)} against {milliseconds(before)} ({(after / before - 1) * 100:+.0f} %)",
              after <= before * 1.2)
    for name, page in HISTORY_PAGES.items():
        before, after = results[small]["pages"].get(page), results[large]["pages"].get(page)
        if before is None or after is None:
            table.add(f"history: {name} p95", "", "not measured (see bench/pages.py's output)", None)
            continue
        table.add(f"history: {name} p95, {large:,} against {small:,} runs", "within 20 %, < 50 ms",
                  f"{milliseconds(after)} against {milliseconds(before)} ({(after / before - 1) * 100:+.0f} %)",
                  after <= before * 1.2 and after < 0.050)


def measure_logs(table: Table, arguments: list[str]) -> None:
    section("logs: bench/log_streaming.py")
    completed = subprocess.run([sys.executable, str(ROOT / "bench" / "log_streaming.py"), *arguments],
                               cwd=ROOT, capture_output=True, text=True, check=False)
    print(completed.stdout, completed.stderr[-2000:], flush=True)
    if completed.returncode:
        table.add("logs", "", f"bench/log_streaming.py failed ({completed.returncode})", False)
        return
    # The target's case is the bulk one (200 MB written as fast as the machine can); the
    # flood's rate, Python printing numbered lines, is the step's own speed more than ours.
    rate = re.search(r"stored at: ([\d.]+) MB/s", completed.stdout)
    table.add("logs: 200 MB written by `yes` through `head -c`, stored on the master, verified", "≥ 40 MB/s",
              f"{rate.group(1)} MB/s" if rate else "see its output", float(rate.group(1)) >= 40 if rate else None)
    paced = completed.stdout.split("paced", 1)[-1]
    delays = re.search(r"(?:median|p50) (\d+) ms, (?:95th percentile|p95) (\d+) ms", paced)
    if delays:
        median, tail = int(delays.group(1)), int(delays.group(2))
        table.add("logs: a line printed → readable through the service, p50 / p95", "< 100 / 300 ms",
                  f"{median} / {tail} ms", median < 100 and tail < 300)
    else:
        table.add("logs: a line printed → readable through the service", "< 100 / 300 ms", "see its output", None)


def measure_buildbot(harness: Path, runs: int) -> dict:
    """Buildbot's figures from the peer harness (its README: the same trivial builds)."""
    section(f"Buildbot: {harness}")
    completed = subprocess.run(["bash", str(harness), "--log-lines", "0"], env={**os.environ, "N": str(runs), "W": "4"},
                               capture_output=True, text=True, check=False)
    print(completed.stdout, completed.stderr[-1500:], flush=True)
    figures = {}
    found = re.search(r"throughput=([\d.]+) builds/s", completed.stdout)
    if found:
        figures["throughput"] = float(found.group(1))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer runs everywhere (a minute or two; the figures are rougher)")
    parser.add_argument("--runs", type=int, default=200, help="throughput: runs triggered at once")
    parser.add_argument("--one-at-a-time", type=int, default=30, help="idle latency: runs one after the other")
    parser.add_argument("--fleet", type=int, default=200, help="connected idle workers")
    parser.add_argument("--fleet-runs", type=int, default=60)
    parser.add_argument("--history", type=int, nargs=2, default=[1000, 100_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--buildbot", type=Path, default=ROOT.parent / "shared" / "peers" / "buildbot" / "run.sh")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["throughput", "fleet", "history", "logs", "buildbot"])
    options = parser.parse_args()
    if options.quick:
        options.runs, options.one_at_a_time, options.fleet_runs = 100, 15, 20
        options.history = [1000, 10_000] if options.history == [1000, 100_000] else options.history

    started = time.monotonic()
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    header = (f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, commit {commit}, "
              f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
              f"Python {platform.python_version()}, SQLite, load average at start "
              f"{' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    print(header, flush=True)
    table = Table()
    buildbot = {}
    if "buildbot" not in options.skip and options.buildbot.is_file():
        buildbot = measure_buildbot(options.buildbot, options.runs)
    elif "buildbot" not in options.skip:
        print(f"(no Buildbot harness at {options.buildbot}: Buildbot not measured)", flush=True)
    if "throughput" not in options.skip:
        measure_throughput(table, options.runs, options.one_at_a_time, buildbot)
    if "fleet" not in options.skip:
        measure_fleet(table, options.fleet, options.fleet_runs, 10 if options.quick else 30)
    if "history" not in options.skip:
        measure_history(table, options.history, options.one_at_a_time)
    if "logs" not in options.skip:
        measure_logs(table, ["--lines", "20000", "--paced-lines", "100"] if options.quick else [])

    print(f"\n{header}; load average at the end {' '.join(f'{load:.1f}' for load in os.getloadavg())}; "
          f"took {(time.monotonic() - started) / 60:.1f} min\n")
    table.print()


if __name__ == "__main__":
    main()
