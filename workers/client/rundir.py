"""A run directory on the worker's disk, as the worker client sees it (see workers/executor.py).

The directory is the truth about a run on the worker: the executor writes it, the worker
client reads it and streams it, and only deletes it once the master acknowledged everything.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from workers.client.forkserver import ForkServer
from workers.masking import SECRETS_FILE

EXECUTOR = Path(__file__).resolve().parent.parent / "executor.py"
FINAL_STATUSES = ("succeeded", "failed", "aborted", "exception", "cancelled")
# Secrets of the worker client and of a master started beside it that steps must not see
# (variables with these names, and their _FILE variants).
HIDDEN_FROM_STEPS = (
    "ORCHESTRA_WORKER_TOKEN", "ORCHESTRA_SECRET_KEY", "ORCHESTRA_DATABASE_URL",
    "ORCHESTRA_REDIS_URL",
)
# Where a master beside the worker (`make run`) reads its jobs' secrets (docs/configuration.md,
# *Secrets*): a step gets a secret only as its job's variable, masked.
HIDDEN_PREFIX = "ORCHESTRA_SECRET_"
# An executor whose pid is unknown and that wrote no state after this long is taken as dead.
START_TIMEOUT_SECONDS = 30


def write_json_atomically(path: Path, data: dict, durable: bool = True) -> None:
    """Readers see the whole file or the one it replaces; with `durable`, it is on disk too."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w") as file:
        json.dump(data, file)
        if durable:
            file.flush()
            os.fsync(file.fileno())
    os.replace(temporary, path)


def write_secrets(path: Path, secrets: dict[str, str]) -> None:
    """The run's secrets, for its executor alone: mode 0600 from the start, never on a command
    line nor in run.json; the executor removes the file as it starts, and the run directory's
    deletion takes it if the executor never did."""
    if not isinstance(secrets, dict) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in secrets.items()
    ):
        raise ValueError("the run's secrets must be an object of variable names to texts")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with open(descriptor, "w") as file:
        os.fchmod(descriptor, 0o600)
        json.dump(secrets, file)


def step_environment() -> dict[str, str]:
    """The worker's environment, as the executor and its steps get it: without secrets."""
    return {
        name: value for name, value in os.environ.items()
        if name.removesuffix("_FILE") not in HIDDEN_FROM_STEPS and not name.startswith(HIDDEN_PREFIX)
    }


class RunDirectory:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.identifier = self.path.name
        self.process: subprocess.Popen | None = None

    @classmethod
    def create(cls, root: Path, request: dict) -> "RunDirectory":
        """The run's directory and its request (run.json), whole for every reader at once but
        not yet durable: `make_durable` follows before the worker answers the master, and the
        executor may start in between (an fsync here took 1.5 ms of an idle start,
        bench/README.md). Should the machine go down before that fsync, the request may be
        lost or unreadable: the master had no answer, and gives the run out again (`discover`)."""
        path = Path(root) / request["identifier"]
        # The request holds the parameters, which may carry secrets; the steps' logs and
        # results follow: the worker's own user alone reads them.
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.chmod(0o700)
        request = dict(request)
        secrets = request.pop("secrets", None)
        if secrets:
            write_secrets(path / SECRETS_FILE, secrets)
        write_json_atomically(path / "run.json", request, durable=False)
        return cls(path)

    def make_durable(self) -> None:
        """Put the run's request on disk: before the worker tells the master it holds the run."""
        descriptor = os.open(self.path / "run.json", os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    @classmethod
    def discover(cls, root: Path) -> list["RunDirectory"]:
        """The run directories a previous worker client left (they hold a run request).

        A directory whose request is unreadable is deleted: the machine went down before the
        request was durable, so before the master heard that this worker holds the run.
        """
        if not Path(root).is_dir():
            return []
        found = []
        for path in sorted(Path(root).iterdir()):
            if not (path / "run.json").exists():
                continue
            try:
                json.loads((path / "run.json").read_bytes())
            except ValueError:
                shutil.rmtree(path, ignore_errors=True)
                continue
            found.append(cls(path))
        return found

    # Executor ---------------------------------------------------------------------------------

    def start_executor(self, fork_server: ForkServer | None = None) -> None:
        """Start the executor in its own session: it outlives this worker client.

        Forked by `fork_server` if given (which writes executor.pid; ForkServerError if it
        could not), else a fresh interpreter.
        """
        if fork_server is not None:
            self.process = None
            fork_server.start(self.path.absolute())
            return
        with open(self.path / "executor.out", "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", str(EXECUTOR), str(self.path)],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True, env=step_environment(),
            )
        (self.path / "executor.pid").write_text(str(self.process.pid))

    def executor_pid(self) -> int | None:
        try:
            return int((self.path / "executor.pid").read_text())
        except (OSError, ValueError):
            pass
        # The client that started it died before writing executor.pid: the executor names
        # itself in its state.
        pid = (self.state() or {}).get("pid")
        return pid if isinstance(pid, int) else None

    def executor_alive(self) -> bool:
        if self.process is not None:
            # Our own child: poll() also reaps it once it ended.
            return self.process.poll() is None
        pid = self.executor_pid()
        if pid is None:
            return False
        try:
            # A restarted client finds the executor by pid; the command line (a spawned
            # executor) or the working directory (a forked one) guards against the pid having
            # been reused by another process.
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if str(self.path).encode() in cmdline.read():
                    return True
        except FileNotFoundError:
            return False
        except OSError:
            try:
                os.kill(pid, 0)
                return True
            except ProcessLookupError:
                return False
        try:
            return os.readlink(f"/proc/{pid}/cwd") == os.path.realpath(self.path)
        except OSError:
            return False

    def abort(self) -> None:
        """Ask the executor to stop (it ends the step's process group and the run `aborted`)."""
        (self.path / "abort").touch()
        pid = self.executor_pid()
        if pid is not None and self.executor_alive():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    # Reading what the executor wrote ----------------------------------------------------------

    def state(self) -> dict | None:
        try:
            with open(self.path / "state.json") as file:
                return json.load(file)
        except (OSError, ValueError):
            return None

    def log_size(self, index: int) -> int:
        try:
            return (self.path / "logs" / f"{index}.log").stat().st_size
        except FileNotFoundError:
            return 0

    def read_log(self, index: int, offset: int, limit: int, whole_lines: bool) -> bytes:
        """Up to `limit` bytes from `offset`; with `whole_lines`, only up to the last newline
        (unless a single line is longer than `limit`, which is then sent in pieces)."""
        try:
            with open(self.path / "logs" / f"{index}.log", "rb") as log:
                log.seek(offset)
                data = log.read(limit)
        except FileNotFoundError:
            return b""
        if whole_lines:
            end = data.rfind(b"\n")
            if end >= 0:
                return data[: end + 1]
            if len(data) < limit:
                return b""  # the line is still being written
        return data

    def settle_dead_executor(self) -> dict | None:
        """The run's state; if the executor ended without a final one, write one first."""
        pid = self.executor_pid()
        if pid is None:
            # A client died between starting the executor and noting its pid, and the
            # executor wrote no state yet: give it time to write one before giving up on it.
            started = (self.path / "run.json").stat().st_mtime
            if time.time() - started < START_TIMEOUT_SECONDS:
                return self.state()
        elif self.executor_alive():
            return self.state()
        # Read only now that the executor is known to be gone: a state read before could
        # predate the final one it wrote just before exiting.
        state = self.state()
        if state is not None and state.get("status") in FINAL_STATUSES:
            return state
        if state is None:
            request = json.loads((self.path / "run.json").read_text())
            state = {
                "status": "running", "message": "", "results": {}, "started": None,
                "steps": [
                    {"index": index, "name": step["name"], "status": "pending", "started": None,
                     "completed": None, "log_size": 0}
                    for index, step in enumerate(request["steps"])
                ],
            }
        aborted = (self.path / "abort").exists()
        status = "aborted" if aborted else "exception"
        message = "aborted on request" if aborted else (
            "the executor process ended without a final status (killed or crashed); see "
            "executor.out in the worker's run directory"
        )
        now = time.time()
        for step in state["steps"]:
            if step["status"] == "running":
                self.kill_orphaned_step(step.get("pid"))
            if step["status"] in ("pending", "running"):
                step["status"] = "cancelled" if step["status"] == "pending" else status
                step["completed"] = now
            step["log_size"] = self.log_size(step["index"])
        state.update(status=status, message=message, completed=now)
        write_json_atomically(self.path / "state.json", state)
        return state

    def kill_orphaned_step(self, pid: int | None) -> None:
        """A step whose executor died would run on unobserved: end its process group."""
        if not pid:
            return
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                ours = f"ORCHESTRA_RUN_DIRECTORY={self.path}".encode() in environ.read().split(b"\0")
        except OSError:
            return
        if ours:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def delete(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
