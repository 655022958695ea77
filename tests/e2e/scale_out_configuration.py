"""The examples plus what the tests of several processes need besides (tests/e2e/test_scale_out.py,
test_separate_applications.py): runs that hold their executor until the test opens a gate, one
writing down that it ran and where, one printing a line before the gate and one after."""

from examples.configuration import projects as example_projects
from examples.configuration import resources  # noqa: F401 (the example jobs hold them)
from projects.definitions import Job, Parameter, Project, Step

# Waits for the file `gate` (two minutes at most), then appends "<text> <worker>" to the
# file `ledger`, prints the text and stores it as the result `text`. The ledger is written by
# the step itself, not by the master: it counts executions, however the master records them.
# (The command is a format string: it has no braces of its own.)
GATED_ECHO = (
    "import json, os, sys, time\n"
    "text, gate, ledger, worker, results = sys.argv[1:]\n"
    "deadline = time.monotonic() + 120\n"
    "while not os.path.exists(gate):\n"
    "    if time.monotonic() > deadline:\n"
    "        sys.exit('the gate never opened')\n"
    "    time.sleep(0.05)\n"
    "with open(ledger, 'a') as file:\n"
    "    file.write(text + ' ' + worker + '\\n')\n"
    "print(text)\n"
    "json.dump(dict(text=text), open(results, 'w'))\n"
)

# Prints a line, waits for the file `gate` (two minutes at most), prints another.
GATED_LOG = (
    "import os, sys, time\n"
    "print('before the gate', flush=True)\n"
    "deadline = time.monotonic() + 120\n"
    "while not os.path.exists(sys.argv[1]):\n"
    "    if time.monotonic() > deadline:\n"
    "        sys.exit('the gate never opened')\n"
    "    time.sleep(0.05)\n"
    "print('after the gate')\n"
)

projects = [
    *example_projects,
    Project(
        "scale-out",
        jobs=[
            Job(
                "gated-echo",
                parameters=[Parameter(name, required=True) for name in ("text", "gate", "ledger")],
                steps=[Step("echo", ["python3", "-c", GATED_ECHO, "{text}", "{gate}", "{ledger}",
                                     "{worker}", "{results_file}"])],
            ),
            Job(
                "gated-log",
                parameters=[Parameter("gate", required=True)],
                steps=[Step("print", ["python3", "-c", GATED_LOG, "{gate}"])],
            ),
        ],
    ),
]
