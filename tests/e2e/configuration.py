"""The example projects plus jobs made for resilience tests (slow, large logs, large results,
never matched)."""

import random

from examples.configuration import projects as example_projects
from examples.configuration import resources  # noqa: F401 (the example jobs hold them)
from projects.definitions import Job, Parameter, Project, Step

# Prints `lines` numbered lines of 60 bytes in `bursts` bursts, pausing between bursts, so a
# test has time to kill things while the log is being written and streamed.
NUMBERED_LINES = (
    "import sys, time\n"
    "lines, bursts, pause = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])\n"
    "per_burst = lines // bursts\n"
    "for burst in range(bursts):\n"
    "    for number in range(burst * per_burst + 1, (burst + 1) * per_burst + 1):\n"
    "        sys.stdout.write('line %08d %s\\n' % (number, 'x' * 46))\n"
    "    sys.stdout.flush()\n"
    "    time.sleep(pause)\n"
)


def numbered_lines(lines: int) -> bytes:
    """What the `numbered` job prints, byte for byte."""
    return b"".join(b"line %08d %s\n" % (number, b"x" * 46) for number in range(1, lines + 1))


# Prints `size` pseudo-random bytes (every byte value: NULs, invalid UTF-8) from `seed`, a
# piece at a time, so the log streams in many chunks.
RANDOM_BYTES = (
    "import random, sys\n"
    "data = random.Random(int(sys.argv[1])).randbytes(int(sys.argv[2]))\n"
    "for start in range(0, len(data), 65536):\n"
    "    sys.stdout.buffer.write(data[start:start + 65536])\n"
    "    sys.stdout.buffer.flush()\n"
)


def random_bytes(seed: int, size: int) -> bytes:
    """What the `random-bytes` job prints, byte for byte."""
    return random.Random(seed).randbytes(size)


projects = [
    *example_projects,
    Project(
        "resilience",
        jobs=[
            Job(
                "numbered",
                parameters=[
                    Parameter("lines", default=80000),
                    Parameter("bursts", default=40),
                    Parameter("pause", default=0.1),
                ],
                steps=[Step("print", ["python3", "-c", NUMBERED_LINES, "{lines}", "{bursts}", "{pause}"])],
            ),
            Job(
                "random-bytes",
                parameters=[Parameter("seed", default=0), Parameter("size", default=1024)],
                steps=[Step("print", ["python3", "-c", RANDOM_BYTES, "{seed}", "{size}"])],
            ),
            Job(
                "sleep",
                parameters=[Parameter("seconds", default=300)],
                steps=[Step("sleep", ["sh", "-c", "echo sleeping; exec sleep {seconds}"])],
            ),
            Job(
                # Sleeps the first time (marking `path`), ends at once the next: a retry after
                # its worker is lost finishes quickly.
                "slow-once",
                parameters=[Parameter("path", required=True)],
                steps=[Step("sleep the first time", [
                    "sh", "-c", 'if [ -e "$1" ]; then echo again; else touch "$1"; echo first; exec sleep 300; fi',
                    "sh", "{path}",
                ])],
                retries=1,
            ),
            Job(
                "big-results",
                parameters=[Parameter("size", default=1000)],
                steps=[Step("write", [
                    "python3", "-c",
                    "import json, os, sys; json.dump({{'blob': 'x' * int(sys.argv[1])}}, "
                    "open(os.environ['ORCHESTRA_RESULTS_FILE'], 'w'))",
                    "{size}",
                ])],
            ),
            Job(
                "unmatched",
                properties={"pool": "nobody"},
                steps=[Step("never", ["true"])],
            ),
        ],
    ),
]
