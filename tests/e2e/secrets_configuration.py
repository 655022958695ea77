"""The example project, and a job that prints its secret in every way a chunk can cut it, for
tests/e2e/test_secrets.py."""

from examples.configuration import projects as example_projects
from examples.configuration import resources  # noqa: F401 (the example jobs hold them)
from projects.definitions import Job, Project, Secret, Step
from workers.protocol import BINARY_CHUNK_BYTES

# The worker client sends log chunks of this many bytes (in binary frames, to a master that
# takes them).
CHUNK_BYTES = BINARY_CHUNK_BYTES

SPLIT_TOKEN = Secret("split-token", environment="ORCHESTRA_TEST_SPLIT_TOKEN")

projects = [
    *example_projects,
    Project("secrets", jobs=[
        Job(
            "leak",
            secrets={"TOKEN": SPLIT_TOKEN},
            steps=[
                # Half the secret, flushed, a pause, the other half: two separate writes of the
                # step, read by the executor as two pieces.
                Step("halves", ["python3", "-c", (
                    "import os, sys, time\n"
                    "token = os.environ['TOKEN']\n"
                    "print('start'); sys.stdout.write('first ' + token[:6]); sys.stdout.flush()\n"
                    "time.sleep(1.5)\n"
                    "print(token[6:] + ' second'); print('twice', token + token, flush=True)\n"
                    "time.sleep(1.5)\n"
                    "print('end')"
                )]),
                # One line longer than a log chunk, the secret where the first chunk ends.
                Step("long line", ["python3", "-c", (
                    "import os, sys\n"
                    f"sys.stdout.write('x' * {CHUNK_BYTES - 2} + os.environ['TOKEN'] + 'y' * 10 + '\\n')"
                )]),
                Step("results", ["python3", "-c", (
                    "import json, os\n"
                    "json.dump({{'token': os.environ['TOKEN']}}, open(os.environ['ORCHESTRA_RESULTS_FILE'], 'w'))"
                )]),
            ],
        ),
    ]),
]
