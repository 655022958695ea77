"""Runs the steps of one run, writing everything into its run directory. Never imports Django.

Started by the worker client, detached in its own session, once per run: forked by the
worker client's fork server (workers/client/forkserver.py), which imported this module once
and calls `main` in each child, or, without a fork server, as a fresh interpreter:

    python -I -S workers/executor.py RUN_DIR

`-I -S` skips site-packages and the environment's Python settings: the executor needs only
the standard library, and a lean interpreter starts several times faster (a fork is faster
still: bench/README.md, "Run throughput"). Either way it behaves the same. It never talks to
the master: the worker client streams what it writes, so either may die without the other.

Bounds come with the run request: the job's `timeout` (counted from the executor's start),
`silence_timeout`, and each step's own (a step's `timeout` counts from its start; its
`silence_timeout` replaces the job's). A step past one is ended as an abort ends it, and the
run ends `failed`: the executor alone enforces them, so they hold while no worker client runs.

Secrets come in `secrets.json` ({variable: value}, mode 0600, written by the worker client
beside run.json): the executor reads it and deletes it at once, gives each step the variables,
and masks their values (`***`, workers/masking.py) in everything it writes: a step's output
then reaches its log through a pipe the executor copies, results and messages are masked
before they are saved.

RUN_DIR holds:
  run.json          the run request (written by the worker client before the start)
  state.json        status, message, pid, timestamps, per-step status and log size, results;
                    replaced atomically at every change
  logs/N.log        stdout and stderr of step N, written by the step itself
  results/N.json    where step N may write a JSON object of results (ORCHESTRA_RESULTS_FILE)
  workspace/        the steps' working directory
"""

import json
import os
import signal
import string
import subprocess
import sys
import time

if __package__:
    from workers.masking import MaskedPipe, mask_json, mask_text, take_secrets
else:
    # A script (`python -I -S workers/executor.py`, whose folder -I leaves out of the path) or
    # the fork server's `import executor`: the module beside this one is found by its path.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from masking import MaskedPipe, mask_json, mask_text, take_secrets

ABORT_GRACE_SECONDS = 10.0
FINAL = ("succeeded", "failed", "aborted", "exception", "cancelled")


class FormattingError(Exception):
    pass


def format_command(command: list[str], context: dict) -> list[str]:
    """Format every argument of a step with `context`; all or nothing.

    Raises FormattingError naming the argument and the missing key, so that nothing is ever
    executed half-formatted.
    """
    formatter = string.Formatter()
    formatted = []
    for position, argument in enumerate(command):
        try:
            formatted.append(formatter.vformat(argument, (), context))
        except KeyError as error:
            raise FormattingError(
                f"argument {position} {argument!r}: no value for key {error.args[0]!r}"
            ) from None
        except IndexError as error:
            raise FormattingError(
                f"argument {position} {argument!r}: positional fields are not supported ({error})"
            ) from None
        except (AttributeError, ValueError, TypeError) as error:
            raise FormattingError(f"argument {position} {argument!r}: {error}") from None
    return formatted


def formatting_context(request: dict, environment: dict, results: dict, run_directory: str,
                       results_file: str) -> dict:
    """The names a step's arguments may use.

    Parameters are top-level names and `parameters[name]`; run metadata names come after
    them, so a parameter never hides `{worker}` or `{run_identifier}`.
    """
    parameters = dict(request.get("parameters") or {})
    context = dict(parameters)
    context.update(
        parameters=parameters,
        environment=dict(environment),
        results=dict(results),
        run_identifier=request.get("identifier", ""),
        project=request.get("project", ""),
        job=request.get("job", ""),
        worker=request.get("worker", ""),
        run_directory=run_directory,
        workspace_directory=os.path.join(run_directory, "workspace"),
        results_file=results_file,
    )
    return context


def seconds(value: float) -> str:
    """A number of seconds as the configuration wrote it: 3, not 3.0."""
    return str(int(value)) if float(value).is_integer() else str(value)


def write_json_atomically(path: str, data: dict) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "w") as file:
        json.dump(data, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


class StepBounds:
    """The bounds of one step: deadlines fixed at its start, and silence, which its output
    pushes back (the log file's growth, checked at each look)."""

    def __init__(self, name: str, log_path: str, deadlines: list[tuple[float, str]],
                 silence: float | None):
        self.name = name
        self.log_path = log_path
        self.deadlines = deadlines
        self.silence = silence
        self.log_size = os.path.getsize(log_path)
        self.last_output = time.monotonic()

    def exceeded(self, now: float) -> str:
        """The message of the bound that passed first by `now` (monotonic), or ''."""
        passed = [(deadline, message) for deadline, message in self.deadlines if now >= deadline]
        if self.silence is not None:
            size = os.path.getsize(self.log_path)
            if size != self.log_size:
                self.log_size, self.last_output = size, now
            elif now - self.last_output >= self.silence:
                passed.append((self.last_output + self.silence, (
                    f"step {self.name!r} printed nothing for {seconds(self.silence)} s (silence_timeout)"
                )))
        return min(passed)[1] if passed else ""


class Executor:
    def __init__(self, run_directory: str):
        self.directory = os.path.abspath(run_directory)
        with open(os.path.join(self.directory, "run.json")) as file:
            self.request = json.load(file)
        self.abort_grace = float(self.request.get("abort_grace", ABORT_GRACE_SECONDS))
        self.abort_since: float | None = None
        # Bounds count on the monotonic clock, so a wall clock set back or forth moves none.
        self.started_monotonic = time.monotonic()
        self.timeout = self.request.get("timeout")
        self.silence_timeout = self.request.get("silence_timeout")
        self.process: subprocess.Popen | None = None
        self.secrets = take_secrets(self.directory)
        self.state = {
            "status": "running",
            "message": "",
            "pid": os.getpid(),
            "started": time.time(),
            "completed": None,
            "results": {},
            "steps": [
                {"index": index, "name": step["name"], "status": "pending", "started": None,
                 "completed": None, "exit_code": None, "log_size": 0}
                for index, step in enumerate(self.request["steps"])
            ],
        }
        for name in ("logs", "results", "workspace"):
            os.makedirs(os.path.join(self.directory, name), exist_ok=True)

    def save(self) -> None:
        write_json_atomically(os.path.join(self.directory, "state.json"), self.state)

    def log_path(self, index: int) -> str:
        return os.path.join(self.directory, "logs", f"{index}.log")

    def on_terminate(self, signum, frame) -> None:
        """The worker client asks for an abort: stop the step's whole process group."""
        if self.abort_since is None:
            self.abort_since = time.monotonic()

    def signal_step(self, signum: int) -> None:
        if self.process is not None and self.process.returncode is None:
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.on_terminate)
        # The first state is saved as the first step starts: one that said only "running"
        # told the worker client nothing it did not know, and its fsync delayed the step.
        outcome, message = "succeeded", ""
        for step in self.state["steps"]:
            if self.abort_since is not None:
                outcome, message = "aborted", "aborted before this step started"
                break
            outcome, message = self.run_step(step)
            if outcome != "succeeded":
                break
        now = time.time()
        for step in self.state["steps"]:
            if step["status"] == "pending":
                step["status"] = "cancelled"
        self.state.update(status=outcome, message=message, completed=now)
        self.save()

    def run_step(self, step: dict) -> tuple[str, str]:
        index = step["index"]
        definition = self.request["steps"][index]
        results_file = os.path.join(self.directory, "results", f"{index}.json")
        environment = dict(os.environ)
        step.update(status="running", started=time.time())
        self.save()
        with open(self.log_path(index), "ab") as log:
            deadline = self.job_deadline()
            if deadline is not None and time.monotonic() >= deadline:
                return self.end_step(step, log, "failed", None, (
                    f"the run exceeded the job's timeout of {seconds(self.timeout)} s "
                    f"before step {step['name']!r} started"
                ))
            try:
                context = formatting_context(
                    self.request, environment, self.state["results"], self.directory, results_file
                )
                argv = format_command(definition["command"], context)
            except FormattingError as error:
                return self.end_step(step, log, "exception", None, f"cannot format the command: {error}")
            # After formatting: a secret is never a name of the command's arguments.
            environment.update(self.secrets)
            environment.update(
                ORCHESTRA_RESULTS_FILE=results_file,
                ORCHESTRA_RUN_IDENTIFIER=self.request.get("identifier", ""),
                ORCHESTRA_RUN_DIRECTORY=self.directory,
            )
            bounds = self.bounds(step, definition)
            # With secrets, the step's output goes through the executor, which masks it.
            output = MaskedPipe(log, list(self.secrets.values())) if self.secrets else None
            try:
                self.process = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=output.write_end if output else log,
                    stderr=subprocess.STDOUT, cwd=os.path.join(self.directory, "workspace"),
                    env=environment, start_new_session=True,
                )
            except OSError as error:
                self.close_output(output)
                return self.end_step(step, log, "failed", None, f"cannot start {argv[0]!r}: {error}")
            finally:
                if output is not None:
                    output.release_write_end()
            step["pid"] = self.process.pid
            self.save()
            try:
                exit_code, exceeded = self.wait(bounds, output)
            finally:
                self.close_output(output)
            if self.abort_since is not None:
                return self.end_step(step, log, "aborted", exit_code, "aborted on request")
            if exceeded:
                return self.end_step(step, log, "failed", exit_code, exceeded)
            problem = self.merge_results(results_file)
            if problem:
                return self.end_step(step, log, "failed", exit_code, problem)
            if exit_code != 0:
                return self.end_step(step, log, "failed", exit_code, f"step {step['name']!r} exited with status {exit_code}")
            return self.end_step(step, log, "succeeded", exit_code, "")

    def job_deadline(self) -> float | None:
        """When the run must be over (monotonic clock), if its job has a timeout."""
        return None if self.timeout is None else self.started_monotonic + self.timeout

    def bounds(self, step: dict, definition: dict) -> StepBounds:
        """The bounds of a step about to start."""
        name, started = step["name"], time.monotonic()
        deadlines = []
        if definition.get("timeout") is not None:
            deadlines.append((started + definition["timeout"], (
                f"step {name!r} exceeded its timeout of {seconds(definition['timeout'])} s"
            )))
        if self.timeout is not None:
            deadlines.append((self.job_deadline(), (
                f"step {name!r} exceeded the job's timeout of {seconds(self.timeout)} s"
            )))
        silence = definition.get("silence_timeout", self.silence_timeout)
        return StepBounds(name, self.log_path(step["index"]), deadlines, silence)

    @staticmethod
    def close_output(output: MaskedPipe | None) -> None:
        if output is not None:
            output.close()

    def wait(self, bounds: StepBounds, output: MaskedPipe | None = None) -> tuple[int, str]:
        """Wait for the step's process (copying its output, if it goes through `output`),
        ending its process group on an abort or once one of its bounds passed; returns its
        exit code and that bound's message ('' if none passed)."""
        exceeded = ""
        stopping_since: float | None = None
        terminated = killed = False
        while True:
            now = time.monotonic()
            if stopping_since is None:
                exceeded = bounds.exceeded(now)
                if exceeded:
                    stopping_since = now
                elif self.abort_since is not None:
                    stopping_since = self.abort_since
            if stopping_since is not None:
                if not terminated:
                    self.signal_step(signal.SIGTERM)
                    terminated = True
                elif not killed and now - stopping_since > self.abort_grace:
                    self.signal_step(signal.SIGKILL)
                    killed = True
            if output is not None and not output.ended:
                output.pump(0.2)
                exit_code = self.process.poll()
                if exit_code is not None:
                    break
                continue
            try:
                exit_code = self.process.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                continue
        if stopping_since is not None:
            # Whatever the step left behind in its process group goes too.
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return exit_code, exceeded

    def merge_results(self, results_file: str) -> str:
        """Merge the step's results into the run's; return a problem description or ''."""
        if not os.path.exists(results_file):
            return ""
        try:
            with open(results_file) as file:
                results = json.load(file)
        except (OSError, ValueError) as error:
            return f"the results file is not valid JSON: {error}"
        if not isinstance(results, dict):
            return "the results file must hold a JSON object"
        self.state["results"].update(mask_json(results, list(self.secrets.values())))
        return ""

    def log_ends_with_newline(self, index: int) -> bool:
        with open(self.log_path(index), "rb") as log:
            log.seek(-1, os.SEEK_END)
            return log.read(1) == b"\n"

    def end_step(self, step: dict, log, status: str, exit_code: int | None, message: str) -> tuple[str, str]:
        message = mask_text(message, list(self.secrets.values()))
        if message and status != "succeeded":
            # The note starts on a line of its own, whatever the step printed last.
            size = os.path.getsize(self.log_path(step["index"]))
            log.flush()
            separator = "\n" if size and not self.log_ends_with_newline(step["index"]) else ""
            log.write(f"{separator}[orchestra] {message}\n".encode())
        log.flush()
        os.fsync(log.fileno())
        step.update(
            status=status, exit_code=exit_code, completed=time.time(),
            log_size=os.path.getsize(self.log_path(step["index"])),
        )
        self.process = None
        self.save()
        return status, message


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: executor.py RUN_DIR", file=sys.stderr)
        return 2
    executor = Executor(argv[1])
    try:
        executor.run()
    except Exception as error:
        message = mask_text(f"executor error: {error!r}", list(executor.secrets.values()))
        executor.state.update(status="exception", message=message, completed=time.time())
        executor.save()
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
