"""`make run`'s command: a newcomer reads the printed URL and login, logs in, triggers an
example job and sees it succeed with its log; Ctrl-C stops runlocal and everything it started,
and so do SIGTERM and SIGHUP; SIGKILLed, what it started follows it within seconds.
An administrator who disables, un-roles or deletes the local worker's user stops the worker,
never the master, and runlocal says why; the next runlocal after a delete gets its worker back."""

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.harness import MANAGE, ROOT, SECRET_KEY, free_port, poll, processes_under

pytestmark = pytest.mark.e2e

LOGIN_LINE = re.compile(r"running at (http://\S+/)\s+Log in as '(\w+)' with password '([^']+)'")




@dataclass(frozen=True)
class Process:
    pid: int
    started: int  # clock ticks after boot: tells this process from a later one with its pid
    command: str

    @classmethod
    def read(cls, pid: int) -> "Process | None":
        """The process `pid` if it runs (a zombie has ended: only its exit status is left)."""
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return None
        # The fields after the command name, which may itself hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] == "Z":
            return None
        return cls(pid, int(fields[19]), command)

    def parent(self) -> int:
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2:].split()[1])

    def running(self) -> bool:
        return Process.read(self.pid) == self


def descendants(pid: int) -> list[Process]:
    """The running processes under `pid`: its children, theirs, and so on."""
    children: dict[int, list[Process]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (process := Process.read(int(entry.name))) is not None:
            try:
                children.setdefault(process.parent(), []).append(process)
            except OSError:
                continue  # it ended meanwhile
    found, parents = [], [pid]
    while parents:
        for child in children.get(parents.pop(), []):
            found.append(child)
            parents.append(child.pid)
    return found


def port_free(host: str, port: int) -> bool:
    """Whether a new master could listen on the port (as runmaster does, reusing the address)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            probe.listen()
        except OSError:
            return False
    return True


def environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items()
        if key not in ("ORCHESTRA_DATABASE_URL", "ORCHESTRA_REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(ORCHESTRA_DATA_DIR=str(tmp_path / "data"), ORCHESTRA_SECRET_KEY=SECRET_KEY,
               **variables)
    return env


@contextlib.contextmanager
def runlocal(tmp_path: Path, port: int, output: Path, **variables: str):
    """runlocal started as `make run` does, writing to `output`; yields the process and the
    login it printed (url, user name, password) once it printed it."""
    env = environment(tmp_path, **variables)
    with open(output, "ab") as stream:
        process = subprocess.Popen(
            [*MANAGE, "runlocal", "--port", str(port)], cwd=ROOT, env=env,
            stdout=stream, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        def login_line() -> re.Match | None:
            assert process.poll() is None, output.read_text()
            return LOGIN_LINE.search(output.read_text())

        found = poll(login_line, 120, output.read_text)
        yield process, found.groups()
    finally:
        # Whatever a failed test left: runlocal's process group (it leads its own session),
        # and processes of this data directory outside it (the fork server has its own).
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in processes_under(tmp_path / "data"):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def quick_start(tmp_path):
    output = tmp_path / "runlocal.out"
    with runlocal(tmp_path, free_port(), output) as (process, login):
        yield process, login, output


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_printed_login_runs_an_example_job_and_ctrl_c_stops_everything(quick_start):
    process, (url, username, password), output = quick_start
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )

    def get(path: str) -> str:
        with browser.open(urllib.parse.urljoin(url, path), timeout=30) as response:
            return response.read().decode()

    def post(path: str, fields: dict) -> str:
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": csrf_token(get(path))})
        request = urllib.request.Request(
            urllib.parse.urljoin(url, path), data=data.encode(), headers={"Referer": url}
        )
        with browser.open(request, timeout=30) as response:
            return response.geturl()

    post("/login/", {"username": username, "password": password})
    # The example project reads this checkout: its status page shows its branches at once.
    status_page = get("/projects/examples/status/")
    shown = re.findall(r'<section class="branch"><h2>([^<]+)</h2>', status_page)
    branches = subprocess.run(["git", "-C", str(ROOT), "branch", "--format=%(refname:short)"],
                              capture_output=True, text=True, check=True).stdout.split()
    assert shown and set(shown) <= set(branches), status_page

    job_page = "/projects/examples/jobs/hello/"
    html = get(job_page)
    action = re.search(r'<form[^>]+action="([^"]*trigger[^"]*)"', html).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf_token(html)}).encode()
    request = urllib.request.Request(
        urllib.parse.urljoin(url, action), data=data, headers={"Referer": url}
    )
    with browser.open(request, timeout=30) as response:
        run_url = response.geturl()
    identifier = re.search(r"/runs/(\w+)/", run_url).group(1)

    poll(lambda: '<dd class="status-succeeded"' in get(f"/runs/{identifier}/"), 60,
         lambda: get(f"/runs/{identifier}/"))
    assert "Hello from local-worker" in get(f"/runs/{identifier}/log/")

    # Ctrl-C: to runlocal alone, not its process group as a terminal would signal it, so that
    # the test shows runlocal itself stopping the master and the worker it started.
    started = descendants(process.pid)
    commands = [child.command for child in started]
    assert [command for command in commands if " runmaster " in command], commands
    assert [command for command in commands if " runworker_client " in command], commands
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    os.kill(process.pid, signal.SIGINT)
    assert process.wait(timeout=30) == 0, output.read_text()
    poll(lambda: not [child for child in started if child.running()], 30,
         lambda: f"still running after runlocal ended: {[c for c in started if c.running()]}")
    poll(lambda: port_free(host, port), 30, lambda: f"port {port} is still taken")


# The local worker's user changed by an administrator ----------------------------------------


def service(url: str, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        urllib.parse.urljoin(url, path), method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            content = response.read()
            return response.status, json.loads(content) if content else {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def administrator_token(tmp_path: Path) -> str:
    completed = subprocess.run(
        [*MANAGE, "create_token", "admin"], cwd=ROOT, env=environment(tmp_path),
        capture_output=True, text=True, timeout=120, check=True,
    )
    return completed.stdout.strip().splitlines()[-1]


def local_worker(url: str, token: str) -> dict:
    return service(url, token, "GET", "/api/workers/local-worker")[1]


# Keep-alive checks the worker's token every second, not every 30 s.
FAST_CHECKS = {"ORCHESTRA_WORKER_INACTIVE_SECONDS": "3"}

CHANGES = {
    "disable": (("POST", "/api/users/local-worker/disable", None), "user 'local-worker' is disabled"),
    "unrole": (("PUT", "/api/users/local-worker/roles", {"roles": []}),
               "user 'local-worker' does not hold the worker role"),
    "delete": (("DELETE", "/api/users/local-worker", None), "user 'local-worker' was deleted"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_refused_local_worker_leaves_the_master_serving_and_runlocal_says_why(tmp_path, change):
    (method, path, body), reason = CHANGES[change]
    output = tmp_path / "runlocal.out"
    with runlocal(tmp_path, free_port(), output, **FAST_CHECKS) as (process, (url, _, _)):
        token = administrator_token(tmp_path)
        poll(lambda: local_worker(url, token).get("is_connected"), 60, output.read_text)
        status, answer = service(url, token, method, path, body)
        assert status in (200, 204), answer

        poll(lambda: "The local worker stopped" in output.read_text(), 60, output.read_text)
        text = output.read_text()
        assert reason in text and "The master keeps serving" in text, text
        # Past the moment runlocal used to give up: the master still answers.
        poll(lambda: not local_worker(url, token).get("is_connected"), 30, output.read_text)
        assert process.poll() is None, text
        assert service(url, token, "GET", "/api/me")[0] == 200

        os.kill(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 0, output.read_text()

    again = tmp_path / "again.out"
    with runlocal(tmp_path, free_port(), again) as (process, (url, _, _)):
        token = administrator_token(tmp_path)
        if change == "delete":
            # The user is created again, and its worker takes its identifier back.
            worker = poll(lambda: (found := local_worker(url, token)).get("is_connected") and found,
                          60, again.read_text)
            assert worker["owner"] == "local-worker"
        else:
            # The administrator's choice stands: no worker, the reason, the master serving.
            assert f"The local worker is not started: the {reason}" in again.read_text()
            assert service(url, token, "GET", "/api/me")[0] == 200
        os.kill(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 0, again.read_text()


# Stopped otherwise than by Ctrl-C ------------------------------------------------------------


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL],
                         ids=lambda number: number.name)
def test_runlocal_stopped_by_a_signal_leaves_no_orchestra_process_behind(tmp_path, number):
    output = tmp_path / "runlocal.out"
    with runlocal(tmp_path, free_port(), output) as (process, (url, _, _)):
        token = administrator_token(tmp_path)
        # A run first, so that the worker client has started its fork server too.
        status, run = service(url, token, "POST", "/api/projects/examples/jobs/hello/trigger", {})
        assert status == 201, run
        path = f"/api/runs/{run['identifier']}"
        poll(lambda: service(url, token, "GET", path)[1]["status"] == "succeeded", 60, output.read_text)

        started = descendants(process.pid)
        commands = " | ".join(child.command for child in started)
        for program in (" runmaster ", " runworker_client ", "forkserver.py"):
            assert program in commands, commands
        host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
        # To runlocal alone: a service manager or `kill` signals one process, not a group.
        os.kill(process.pid, number)
        assert process.wait(timeout=30) == (-signal.SIGKILL if number == signal.SIGKILL else 0)
        poll(lambda: not [child for child in started if child.running()], 10,
             lambda: f"still running after runlocal ended: {[c for c in started if c.running()]}")
        poll(lambda: port_free(host, port), 10, lambda: f"port {port} is still taken")
        assert processes_under(tmp_path / "data") == []
