"""`make run`'s command: a newcomer reads the printed URL and login, logs in, triggers an
example job and sees it succeed with its log; Ctrl-C stops runlocal and everything it started."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
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


@pytest.fixture
def quick_start(tmp_path):
    port = free_port()
    output = tmp_path / "runlocal.out"
    env = {
        key: value for key, value in os.environ.items()
        if key not in ("ORCHESTRA_DATABASE_URL", "ORCHESTRA_REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(ORCHESTRA_DATA_DIR=str(tmp_path / "data"), ORCHESTRA_SECRET_KEY=SECRET_KEY)
    with open(output, "wb") as stream:
        process = subprocess.Popen(
            [*MANAGE, "runlocal", "--port", str(port)], cwd=ROOT, env=env,
            stdout=stream, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        def login_line() -> re.Match | None:
            assert process.poll() is None, output.read_text()
            return LOGIN_LINE.search(output.read_text())

        found = poll(login_line, 120, output.read_text)
        yield process, found.groups(), output
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
