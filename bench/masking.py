"""What masking secrets costs a run: the executor, with and without secrets, on a step that
prints a lot, and the masker alone.

1. Executor: a step runs `seq 1 N` (N = 5,000,000: 38.9 MB of output) in a real executor
   (a fresh `python -I -S workers/executor.py`), once without secrets (the step writes its log
   file itself) and once with three (its output goes through the executor's masking pipe).
   Prints the time from the executor's start to its final state, and checks the logs are equal
   (the secrets never occur).
2. Masker: `Masker.feed` on 64 KiB pieces of that output, with 1 and with 10 secrets.

    .venv/bin/python bench/masking.py [--lines 5000000]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workers.client.rundir import RunDirectory  # noqa: E402
from workers.masking import Masker  # noqa: E402

SECRETS = {"TOKEN": "tok-3141592653", "PASSWORD": "correct horse battery", "KEY": "k3y-abc-xyz"}


def run_executor(root: Path, identifier: str, lines: int, secrets: dict) -> tuple[float, bytes]:
    request = {
        "identifier": identifier, "project": "bench", "job": "masking", "worker": "bench",
        "parameters": {}, "steps": [{"name": "seq", "command": ["seq", "1", str(lines)]}],
        **({"secrets": secrets} if secrets else {}),
    }
    directory = RunDirectory.create(root, request)
    started = time.perf_counter()
    directory.start_executor()
    directory.process.wait()
    elapsed = time.perf_counter() - started
    state = json.loads((directory.path / "state.json").read_text())
    assert state["status"] == "succeeded", state
    return elapsed, (directory.path / "logs" / "0.log").read_bytes()


def masker_rate(data: bytes, secrets: list[str]) -> float:
    masker = Masker(secrets)
    started = time.perf_counter()
    for position in range(0, len(data), 64 * 1024):
        masker.feed(data[position:position + 64 * 1024])
    masker.finish()
    return len(data) / (time.perf_counter() - started) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5_000_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        plain_time, plain_log = run_executor(root, "plain", arguments.lines, {})
        masked_time, masked_log = run_executor(root, "masked", arguments.lines, SECRETS)
    assert masked_log == plain_log
    megabytes = len(plain_log) / 1e6
    print(f"output: {megabytes:.1f} MB")
    print(f"executor without secrets: {plain_time:.2f} s ({megabytes / plain_time:.0f} MB/s)")
    print(f"executor with 3 secrets:  {masked_time:.2f} s ({megabytes / masked_time:.0f} MB/s)")
    many = [f"secret-number-{index:03d}-value" for index in range(10)]
    print(f"Masker.feed, 1 secret:   {masker_rate(plain_log, many[:1]):.0f} MB/s")
    print(f"Masker.feed, 10 secrets: {masker_rate(plain_log, many):.0f} MB/s")
    subprocess.run(["uptime"], check=False)


if __name__ == "__main__":
    main()
