"""The example projects plus the benchmark's jobs (see bench/log_streaming.py, bench/throughput.py,
bench/fleet.py, bench/outcomes.py)."""

from examples.configuration import projects as example_projects
from examples.configuration import resources  # noqa: F401 (the example jobs hold them)
from projects.definitions import Job, Parameter, Project, Step

# Each line: its number, the time it was printed, padding to 60 bytes. A pause of 0 prints as
# fast as Python can; a pause paces the lines to measure the delay to the service.
TIMESTAMPED_LINES = (
    "import sys, time\n"
    "lines, pause = int(sys.argv[1]), float(sys.argv[2])\n"
    "for number in range(1, lines + 1):\n"
    "    sys.stdout.write('%08d %.6f %s\\n' % (number, time.time(), 'x' * 33))\n"
    "    if pause:\n"
    "        sys.stdout.flush()\n"
    "        time.sleep(pause)\n"
)

projects = [
    *example_projects,
    Project(
        "bench",
        jobs=[
            Job(
                "timestamped",
                parameters=[Parameter("lines", default=100000), Parameter("pause", default=0)],
                steps=[Step("print", ["python3", "-c", TIMESTAMPED_LINES, "{lines}", "{pause}"])],
            ),
            # `bytes` bytes of "y\n" as fast as the machine writes them (not Python's print): the
            # log's transfer rate to the master.
            Job(
                "bulk",
                parameters=[Parameter("bytes", default=200_000_000)],
                steps=[Step("yes", ["sh", "-c", "yes | head -c {bytes}"])],
            ),
            # A run that costs Orchestra everything and the step nothing: throughput.
            Job("true", steps=[Step("true", ["true"])]),
            # `true` for one worker of a fleet (bench/fleet.py): only a worker with the property
            # pool=fleet may take it; the idle workers connected beside it say pool=idle.
            Job("fleet", properties={"pool": "fleet"}, steps=[Step("true", ["true"])]),
        ],
    ),
]
