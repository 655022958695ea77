"""A real Orchestra installation for end-to-end tests: runmaster and runworker_client processes.

Everything lives in a temporary data directory (SQLite database, logs, worker run
directories, and each process's output in `output/`, kept for debugging a failure).
"""

import json as jsonlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[2]
MANAGE = [sys.executable, str(ROOT / "manage.py")]
FINAL = ("succeeded", "failed", "aborted", "exception", "cancelled", "skipped")
SECRET_KEY = "e2e-tests-secret-key-" + "x" * 32


T = TypeVar("T")


def poll(check: Callable[[], T | None], timeout: float, failure: Callable[[], str],
         interval: float = 0.1) -> T:
    """The first true value of `check()`, asked again every `interval` seconds; fails with
    `failure()` once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, failure()
        time.sleep(interval)
    return value


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def twice(password: str) -> str:
    """A password and its confirmation, as `create_user` reads them from standard input."""
    return f"{password}\n{password}\n"


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1].strip()


class Orchestra:
    """A real installation: a temp data dir, SQLite, a runmaster on a free loopback port."""

    def __init__(self, tmp_path, configuration: str = "examples.configuration", env: dict | None = None):
        self.data_dir = Path(tmp_path) / "orchestra"
        self.output_dir = self.data_dir / "output"
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/master/"
        self.env = {
            **os.environ,
            "ORCHESTRA_DATA_DIR": str(self.data_dir),
            "ORCHESTRA_CONFIGURATION": configuration,
            "ORCHESTRA_SECRET_KEY": SECRET_KEY,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        # The test process's own settings must not leak into the installation.
        for name in ("ORCHESTRA_DATABASE_URL", "ORCHESTRA_REDIS_URL", "DJANGO_SETTINGS_MODULE"):
            if env is None or name not in env:
                self.env.pop(name, None)
        self.master: subprocess.Popen | None = None
        # The other masters' processes, by URL (start_extra_master).
        self.extra_masters: dict[str, subprocess.Popen] = {}
        self.workers: dict[str, subprocess.Popen] = {}
        self.started: list[subprocess.Popen] = []
        if "ORCHESTRA_DATABASE_URL" in self.env:
            self.admin_token, self.worker_token = self.prepare_database()
        else:
            # Django takes seconds to start on a busy machine: the SQLite database is
            # prepared once per test session and copied.
            template = sqlite_template()
            shutil.copy(template / "orchestra.sqlite3", self.data_dir / "orchestra.sqlite3")
            tokens = jsonlib.loads((template / "tokens.json").read_text())
            self.admin_token, self.worker_token = tokens["admin"], tokens["worker"]

    def prepare_database(self) -> tuple[str, str]:
        """Migrate, then create an administrator and a worker user; returns their tokens."""
        self.manage("migrate", "--verbosity", "0")
        self.manage("create_user", "admin", "--role", "administrator", input=twice("admin-password-e2e"))
        admin_token = last_line(self.manage("create_token", "admin"))
        self.manage("create_user", "worker", "--role", "worker", input=twice("worker-password-e2e"))
        worker_token = last_line(self.manage("create_token", "worker"))
        return admin_token, worker_token

    # Processes --------------------------------------------------------------------------------

    def manage(self, *args, input: str | None = None, env: dict | None = None) -> str:
        """Run manage.py with this installation's environment (and `env` besides); returns
        stdout, raises on failure."""
        completed = subprocess.run(
            [*MANAGE, *args], env={**self.env, **(env or {})}, cwd=ROOT, input=input or "",
            capture_output=True, text=True, timeout=120,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed ({completed.returncode}):\n"
                f"{completed.stdout}\n{completed.stderr}"
            )
        return completed.stdout

    def shell(self, code: str) -> str:
        """Run Python code in a Django shell on this installation's database; returns stdout."""
        return self.manage("shell", "--no-imports", "--command", code)

    def spawn(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        output = open(self.output_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            [*MANAGE, *args], env={**self.env, **(env or {})}, cwd=ROOT, stdin=subprocess.DEVNULL,
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
        output.close()
        self.started.append(process)
        return process

    def start_master(self, serve: str | None = None, env: dict | None = None, args: tuple = ()) -> None:
        """Start runmaster (serving `serve`, default all; with `env` besides the installation's
        and `args`) and wait until it answers HTTP."""
        self.master = self.start_runmaster("master", self.port, serve, env, args)

    def start_extra_master(self, serve: str | None = None, env: dict | None = None, args: tuple = (),
                           port: int | None = None) -> str:
        """Start another runmaster (serving `serve`, default all; on a free port, or `port` to
        restart one) on the same database (PostgreSQL and Redis for scale-out); returns its URL."""
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        self.extra_masters[url] = self.start_runmaster(f"master-{port}", port, serve, env, args)
        return url

    def start_runmaster(self, name: str, port: int, serve: str | None, env: dict | None = None,
                        args: tuple = ()) -> subprocess.Popen:
        """Start runmaster on `port` and wait until it answers HTTP, whatever it answers: a
        process that does not serve the website answers 404 for everything but /api/."""
        process = self.spawn(name, [
            "runmaster", "--host", "127.0.0.1", "--port", str(port),
            *(["--serve", serve] if serve else []), *args,
        ], env)

        def answers() -> bool:
            assert process.poll() is None, f"runmaster exited:\n{self.output(name)}"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/static/orchestra.css", timeout=2).close()
            except urllib.error.HTTPError:
                return True
            except (OSError, urllib.error.URLError):
                return False
            return True

        poll(answers, 60, lambda: f"runmaster on {port} did not answer within 60 s:\n{self.output(name)}")
        return process

    def kill_master(self, sig=signal.SIGKILL) -> None:
        if self.master is not None and self.master.poll() is None:
            os.killpg(self.master.pid, sig)
            self.master.wait(timeout=30)
        self.master = None

    def start_worker(self, identifier: str, properties: dict | None = None, executors: int = 2,
                     data_dir: Path | None = None, token: str | None = None,
                     master_url: str | list[str] | None = None) -> subprocess.Popen:
        """Start a worker client connected to `master_url` (default the first master), or to
        each of a list of URLs in turn (failover)."""
        data_dir = data_dir or self.data_dir / f"worker-{identifier}"
        urls = [master_url] if isinstance(master_url, str) else master_url or [self.ws_url]
        args = [
            "runworker_client", *(argument for url in urls for argument in ("--master-url", url)),
            "--token", token or self.worker_token,
            "--identifier", identifier, "--executors", str(executors), "--data-dir", str(data_dir),
        ]
        for key, value in (properties or {}).items():
            args += ["--property", f"{key}={value}"]
        process = self.spawn(f"worker-{identifier}", args)
        self.workers[identifier] = process
        return process

    def wait_for_workers(self, *identifiers: str, timeout: float = 60) -> None:
        """Wait until each of these workers is connected and done with its hello."""

        def connected() -> bool:
            status, body = self.api("GET", "/api/workers?page_size=100")
            assert status == 200, body
            return {worker["identifier"] for worker in body["results"] if worker["is_connected"]} >= set(identifiers)

        poll(connected, timeout, lambda: f"workers {identifiers} did not all connect")

    def kill_worker(self, identifier: str, sig=signal.SIGKILL) -> None:
        """Kill the worker client only: executors run in their own sessions and survive."""
        process = self.workers.pop(identifier)
        if process.poll() is None:
            os.killpg(process.pid, sig)
            process.wait(timeout=30)

    def output(self, name: str) -> str:
        path = self.output_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Kill everything this installation started, executors and their steps included."""
        for process in self.started:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=30)
        for pid in processes_under(self.data_dir):
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self.master = None
        self.extra_masters.clear()
        self.workers.clear()

    # Service ----------------------------------------------------------------------------------

    def create_user(self, name: str, role: str) -> str:
        """Create a user with `role`; returns a new API token of that user."""
        self.manage("create_user", name, "--role", role, input=twice(f"{name}-password-e2e"))
        return last_line(self.manage("create_token", name))

    def api(self, method: str, path: str, json: object = None, token: str | None = None,
            url: str | None = None) -> tuple[int, object]:
        """Call the service (of the master at `url`, default the first); returns (status,
        JSON body or text)."""
        body = None if json is None else jsonlib.dumps(json).encode()
        request = urllib.request.Request(f"{url or self.url}{path}", data=body, method=method.upper())
        request.add_header("Authorization", f"Bearer {token or self.admin_token}")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, content, kind = response.status, response.read(), response.headers.get_content_type()
        except urllib.error.HTTPError as error:
            status, content, kind = error.code, error.read(), error.headers.get_content_type()
        if kind == "application/json":
            return status, jsonlib.loads(content) if content else None
        return status, content.decode(errors="replace")

    def trigger(self, project: str, job: str, parameters: dict | None = None, token: str | None = None) -> dict:
        status, body = self.api(
            "POST", f"/api/projects/{project}/jobs/{job}/trigger",
            {"parameters": parameters or {}}, token=token,
        )
        assert status == 201, (status, body)
        return body

    def run(self, identifier: str) -> dict:
        status, body = self.api("GET", f"/api/runs/{identifier}")
        assert status == 200, (status, body)
        return body

    def log(self, identifier: str, step: int = 0, url: str | None = None) -> bytes:
        """The whole log of a step as stored on the master, read through the service (of the
        master at `url`, by default the first) by offset."""
        data = b""
        while True:
            chunk, size = self.read_log(identifier, step, len(data), url)
            data += chunk
            if not chunk or len(data) >= size:
                return data

    def read_log(self, identifier: str, step: int, offset: int, url: str | None = None) -> tuple[bytes, int]:
        """Log bytes from `offset`, and the log's size on the master now."""
        request = urllib.request.Request(
            f"{url or self.url}/api/runs/{identifier}/steps/{step}/log?offset={offset}"
        )
        request.add_header("Authorization", f"Bearer {self.admin_token}")
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read(), int(response.headers["X-Log-Size"])

    def wait_for_worker(self, identifier: str, connected: bool = True, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status, worker = self.api("GET", f"/api/workers/{identifier}")
            if status == 200 and worker["is_connected"] == connected:
                return worker
            if time.monotonic() > deadline:
                raise AssertionError(f"worker {identifier}: {status} {worker} after {timeout} s")
            time.sleep(0.1)

    def wait_for_run(self, identifier: str, statuses=FINAL, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(identifier)
            if run["status"] in statuses:
                return run
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"run {identifier} is {run['status']} after {timeout} s, expected {statuses}"
                )
            time.sleep(0.1)


_template: Path | None = None


def sqlite_template() -> Path:
    """A data directory with a migrated database, an administrator and a worker user."""
    global _template
    if _template is None:
        directory = Path(tempfile.mkdtemp(prefix="orchestra-e2e-template-"))
        installation = Orchestra.__new__(Orchestra)
        installation.env = {
            **{k: v for k, v in os.environ.items() if k != "ORCHESTRA_DATABASE_URL"},
            "ORCHESTRA_DATA_DIR": str(directory), "ORCHESTRA_SECRET_KEY": SECRET_KEY,
        }
        admin, worker = installation.prepare_database()
        (directory / "tokens.json").write_text(jsonlib.dumps({"admin": admin, "worker": worker}))
        _template = directory
    return _template


def processes_under(directory: Path) -> list[int]:
    """Processes whose command line or environment names `directory` (detached executors and
    the steps they started)."""
    marker = str(directory).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "cmdline").read_bytes() or marker in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found

