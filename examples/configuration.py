"""The example project: the default ORCHESTRA_CONFIGURATION, and jobs that scripts and docs rely on.

Commands use only what a plain Debian machine has (sh, echo, seq, python3). Each argument is a
Python format string (docs/configuration.md): `{{` and `}}` stand for literal braces.
"""

import os
from pathlib import Path

from projects.definitions import (
    Element,
    Hook,
    Job,
    Parameter,
    PipelineJob,
    Project,
    Resource,
    Schedule,
    Secret,
    Step,
    Webhook,
)

# The checkout Orchestra runs from, when it is a git repository (a clone, or a worktree whose
# `.git` is a file), so that the status page of a fresh install shows branches and revisions at
# once. Checked here rather than left to git, which would read a repository above an unpacked
# archive; without one, the example declares no repository and its status page says so.
CHECKOUT = Path(__file__).resolve().parent.parent
REPOSITORY = str(CHECKOUT) if (CHECKOUT / ".git").exists() else ""

# A step that stores {"answer": 42} in the run's results.
WRITE_ANSWER = Step(
    "write the answer",
    ["sh", "-c", 'printf \'{{"answer": 42}}\' > "$ORCHESTRA_RESULTS_FILE"; echo "answer written"'],
)

# Prints the text and stores it as the result `text` (arguments, not shell code: no injection).
ECHO_AND_STORE = Step(
    "echo",
    [
        "python3",
        "-c",
        "import json, sys; print(sys.argv[1]); json.dump({{'text': sys.argv[1]}}, open(sys.argv[2], 'w'))",
        "{text}",
        "{results_file}",
    ],
)


# Read by the master from ORCHESTRA_SECRET_EXAMPLE_TOKEN at its start. Optional: while that
# variable is unset, the job `show-secret` is disabled, saying why, and the master starts.
EXAMPLE_TOKEN = Secret("example-token", environment="ORCHESTRA_SECRET_EXAMPLE_TOKEN", required=False)

# Prints the variable EXAMPLE_TOKEN and stores it as the result `token`: both show `***`.
SHOW_TOKEN = Step(
    "show the token",
    [
        "python3",
        "-c",
        "import json, os; token = os.environ['EXAMPLE_TOKEN']; print('the token is', token); "
        "json.dump({{'token': token}}, open(os.environ['ORCHESTRA_RESULTS_FILE'], 'w'))",
    ],
)

# Adds a line to the file at `path` and fails while it holds fewer than three.
COUNT_ATTEMPTS = Step(
    "count attempts",
    ["sh", "-c", 'echo attempt >> "$1"; n=$(wc -l < "$1"); echo "attempt $n"; [ "$n" -ge 3 ]',
     "sh", "{path}"],
)


def diamond(identifier: str, description: str, failing: str | None = None) -> PipelineJob:
    """a, then b and c side by side, then d once both succeeded."""

    def element(name: str, after: list[str]) -> Element:
        if name == failing:
            return Element(name, "fail", after=after)
        return Element(name, "echo", parameters={"text": f"element {name}"}, after=after)

    return PipelineJob(
        identifier,
        description=description,
        elements=[
            element("a", []),
            element("b", ["a"]),
            element("c", ["a"]),
            element("d", ["b", "c"]),
        ],
    )


# Failures are told to a webhook when both its address and the name of its secret's variable
# are set (docs/configuration.md, "Notifications"); the master reads the secret itself.
WEBHOOK_URL = os.environ.get("ORCHESTRA_EXAMPLES_WEBHOOK_URL", "")
WEBHOOK_SECRET_VARIABLE = "ORCHESTRA_EXAMPLES_WEBHOOK_SECRET"
NOTIFICATIONS = (
    [Webhook(WEBHOOK_URL, secret_variable=WEBHOOK_SECRET_VARIABLE, on="failures")]
    if WEBHOOK_URL and os.environ.get(WEBHOOK_SECRET_VARIABLE) else []
)

projects = [
    Project(
        "examples",
        display_name="Examples",
        description="Example jobs, a pipeline and a schedule, to see Orchestra work.",
        repository=REPOSITORY,
        notifications=NOTIFICATIONS,
        jobs=[
            Job(
                "hello",
                description="Prints a greeting that names the worker.",
                steps=[Step("greet", ["echo", "Hello from {worker}"])],
            ),
            Job(
                "noop",
                description="Does nothing and succeeds: what a run costs Orchestra itself (make bench).",
                steps=[Step("true", ["true"])],
            ),
            Job(
                "results",
                description="Writes the result answer = 42.",
                steps=[WRITE_ANSWER],
            ),
            Job(
                "fail",
                description="Exits with status 1.",
                steps=[Step("fail", ["sh", "-c", "echo 'failing on purpose' >&2; exit 1"])],
            ),
            Job(
                "log-flood",
                description="Prints the numbers 1 to N, one per line.",
                # Bounded: a flood of any size would fill the master's disk with one click.
                parameters=[
                    Parameter("lines", "How many lines to print.", default=100000, minimum=1,
                              maximum=10_000_000),
                ],
                steps=[Step("count", ["seq", "{lines}"])],
            ),
            Job(
                "slow-count",
                description="Prints `line 1` to `line N`, one every `delay` seconds: watch a live log.",
                parameters=[
                    Parameter("lines", "How many lines to print.", default=10, minimum=1,
                              maximum=10_000),
                    Parameter("delay", "Seconds between lines.", default=1, minimum=0, maximum=60),
                ],
                steps=[
                    Step(
                        "count slowly",
                        ["sh", "-c", 'for i in $(seq "$1"); do echo "line $i"; sleep "$2"; done',
                         "sh", "{lines}", "{delay}"],
                    )
                ],
            ),
            Job(
                "append",
                description="Appends the run's identifier and a newline to the file at `path`, "
                "and says so in its log: a ledger of the runs that were executed.",
                parameters=[Parameter("path", "The file to append to (on the worker).", required=True,
                                      max_length=4096)],
                # One write of a few bytes to a file opened with O_APPEND (`>>`): runs appending
                # to the same file at once never mix their lines.
                steps=[Step("append", ["sh", "-c", r'printf "%s\n" "$1" >> "$2" && echo "appended $1"',
                                       "sh", "{run_identifier}", "{path}"])],
            ),
            Job(
                "echo",
                description="Prints its text and stores it as the result `text`.",
                parameters=[
                    Parameter("text", "What to print.", default="Hello, Orchestra", max_length=1000),
                ],
                steps=[ECHO_AND_STORE],
            ),
            Job(
                "show-secret",
                description="Prints the secret example-token (the variable EXAMPLE_TOKEN) and "
                "stores it as the result `token`: the log and the results show `***`.",
                steps=[SHOW_TOKEN],
                secrets={"EXAMPLE_TOKEN": EXAMPLE_TOKEN},
            ),
            Job(
                "results-chain",
                description="A second step uses the result written by the first one.",
                steps=[
                    WRITE_ANSWER,
                    Step("use the answer", ["echo", "The answer is {results[answer]}"]),
                ],
            ),
            Job(
                "special-pool",
                description="Only a worker started with --property pool=special takes it.",
                properties={"pool": "special"},
                steps=[Step("greet", ["echo", "Hello from the special pool: {worker}"])],
            ),
            Job(
                "sleepy",
                description="Sleeps `seconds`; its timeout of 3 s ends it first by default.",
                parameters=[Parameter("seconds", "How long to sleep.", default=30)],
                steps=[Step("sleep", ["sleep", "{seconds}"])],
                timeout=3,
            ),
            Job(
                "silent",
                description="Prints one line, then nothing: its silence timeout of 2 s ends it.",
                steps=[Step("print then wait", ["sh", "-c", "echo 'one line, then silence'; sleep 30"])],
                silence_timeout=2,
            ),
            Job(
                "flaky",
                description="Fails until its third attempt (counted in the file at `path`); "
                "retried twice after a failure, 1 s then 2 s later.",
                parameters=[Parameter("path", "A file counting the attempts.", required=True)],
                steps=[COUNT_ATTEMPTS],
                retries=2,
                retry_on=["failed"],
                retry_delay=1,
            ),
            Job(
                "exclusive",
                description="Sleeps `seconds`; never two runs at once.",
                parameters=[Parameter("seconds", "How long to sleep.", default=1)],
                steps=[Step("sleep", ["sleep", "{seconds}"])],
                max_concurrent_runs=1,
            ),
            Job(
                "deploy-a",
                description="Holds the resource deploy-prod for a second.",
                steps=[Step("deploy", ["sleep", "1"])],
                resources=["deploy-prod"],
            ),
            Job(
                "deploy-b",
                description="Holds the resource deploy-prod for a second, like deploy-a.",
                steps=[Step("deploy", ["sleep", "1"])],
                resources=["deploy-prod"],
            ),
            Job(
                "kept",
                description="Prints `kept`; only its last 3 finished runs are kept.",
                steps=[Step("echo", ["echo", "kept"])],
                keep_runs=3,
            ),
            diamond("pipeline-diamond", "a, then b and c, then d: all succeed."),
            diamond(
                "pipeline-failure",
                "The diamond where c fails: the pipeline fails and d is skipped.",
                failing="c",
            ),
        ],
        schedules=[Schedule("hello-hourly", "hello", "0 * * * *")],
        # POST /api/hooks/examples/echo, signed with this variable's value, runs `echo` with
        # the payload's field `text` (docs/configuration.md, "Hooks").
        hooks=[Hook("echo", secret_variable="ORCHESTRA_HOOK_SECRET_ECHO",
                    jobs={"echo": {"text": "text"}})],
    )
]

# Held by deploy-a and deploy-b: one of them at a time.
resources = [Resource("deploy-prod", capacity=1)]
