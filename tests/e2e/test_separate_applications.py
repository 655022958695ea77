"""The website, the service and the master started as separate processes (`runmaster --serve`) on
PostgreSQL and Redis, with a worker: a run triggered through the service process starts at once
on the worker of the master process (no sweep: it runs once an hour here), its live log is read
through the website process, and each process answers 404 or refuses what it does not serve.
Only the master process runs the sweeps."""

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.harness import FINAL, Orchestra, poll
from tests.e2e.test_scale_out import redis_reachable
from tests.postgres import postgres_database  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

ADMIN_PASSWORD = "admin-password-e2e"  # Orchestra.prepare_database's

# A worker connected but silent for a day: the first liveness sweep marks it disconnected.
GHOST_WORKER = """
from datetime import timedelta
from django.utils import timezone
from workers.models import Worker
Worker.objects.create(identifier="ghost", is_connected=True, channel_name="specific.ghost!x",
                      last_seen=timezone.now() - timedelta(days=1))
"""


class Browser:
    """A person on the website of one process: a session cookie, forms with their CSRF token."""

    def __init__(self, url: str):
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, bytes, dict]:
        try:
            with self.opener.open(self.url + path, timeout=30) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def log_in(self, username: str, password: str) -> None:
        _, page, _ = self.get("/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        data = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(self.url + "/login/", data=data, headers={"Referer": self.url})
        with self.opener.open(request, timeout=30) as response:
            assert not response.geturl().endswith("/login/"), response.read()


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def worker_handshake_refused(url: str, token: str) -> int | None:
    """The HTTP status refusing a worker's WebSocket handshake at `url`, None if accepted."""
    try:
        with connect(url.replace("http", "ws") + "/ws/master/", open_timeout=30,
                     additional_headers={"Authorization": f"Bearer {token}"}):
            return None
    except InvalidStatus as refusal:
        return refusal.response.status_code


def test_website_service_and_master_in_separate_processes(tmp_path, postgres_database):  # noqa: F811
    if not redis_reachable():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    orchestra = Orchestra(tmp_path, configuration="tests.e2e.scale_out_configuration", env={
        "ORCHESTRA_DATABASE_URL": postgres_database,
        "ORCHESTRA_REDIS_URL": "redis://127.0.0.1:6379/0",
        # A run starts only if the process that created it woke the master's dispatch.
        "ORCHESTRA_DISPATCH_SWEEP_SECONDS": "3600",
        # Liveness sweeps every second, so that a process running them shows it at once.
        "ORCHESTRA_WORKER_INACTIVE_SECONDS": "3",
    })
    try:
        orchestra.shell(GHOST_WORKER)
        # The service process is the harness's own URL: triggers, runs and workers are read there.
        orchestra.start_master(serve="service")
        service = orchestra.url
        website = orchestra.start_extra_master(serve="website")
        started = time.monotonic()

        # What the website and service processes do not serve.
        status, answer = orchestra.api("GET", "/api/me", url=website)
        assert (status, answer) == (404, {"error": "this process does not serve the service"})
        assert http_status(f"{service}/login/") == 404
        assert http_status(f"{service}/static/orchestra.css") == 404
        assert http_status(f"{website}/login/") == 200
        for url in (website, service):
            assert worker_handshake_refused(url, orchestra.worker_token) == 403
        # A worker client sent to the wrong process stops and says so.
        misdirected = orchestra.start_worker(
            "misdirected", master_url=website.replace("http", "ws") + "/ws/master/"
        )
        assert misdirected.wait(timeout=120) == 1
        assert (
            "the master refused the connection: server rejected WebSocket connection: HTTP 403"
            in orchestra.output("worker-misdirected")
        )

        # Neither runs the sweeps: the ghost stays connected through several liveness periods
        # (a bounded observation of something that must not happen, not a synchronisation).
        while time.monotonic() < started + 5:
            status, ghost = orchestra.api("GET", "/api/workers/ghost")
            assert ghost["is_connected"], ghost
            time.sleep(0.2)

        # Nor do they load the configuration: the master process writes it.
        assert orchestra.api("GET", "/api/projects")[1]["count"] == 0

        master = orchestra.start_extra_master(serve="master")
        projects = orchestra.api("GET", "/api/projects")[1]["results"]
        assert [project["identifier"] for project in projects] == ["examples", "scale-out"]
        assert http_status(f"{master}/login/") == 404
        assert orchestra.api("GET", "/api/me", url=master)[0] == 404
        poll(lambda: not orchestra.api("GET", "/api/workers/ghost")[1]["is_connected"], 30,
             lambda: "the master process ran no liveness sweep")

        orchestra.start_worker("solo", executors=1,
                               master_url=master.replace("http", "ws") + "/ws/master/")
        orchestra.wait_for_workers("solo")

        gate = tmp_path / "gate"
        identifier = orchestra.trigger("scale-out", "gated-log", {"gate": str(gate)})["identifier"]
        run = orchestra.wait_for_run(identifier, statuses=("running", *FINAL), timeout=30)
        assert (run["status"], run["worker"]) == ("running", "solo")

        # The live log, as the website's run page reads it, through the website process.
        browser = Browser(website)
        browser.log_in("admin", ADMIN_PASSWORD)
        status, page, _ = browser.get(f"/runs/{identifier}/log/")
        assert status == 200, page
        live_url = re.search(rb'<pre data-log="([^"]+)"', page).group(1).decode()
        assert live_url == f"/runs/{identifier}/steps/0/raw"

        def read_from(offset: int) -> tuple[bytes, int, str]:
            status, data, headers = browser.get(f"{live_url}?offset={offset}&limit=65536")
            assert status == 200, data
            return data, int(headers["X-Log-Size"]), headers["X-Run-Status"]

        first = poll(lambda: (answer := read_from(0))[0].endswith(b"\n") and answer, 30,
                     lambda: "the first line never reached the website process")
        assert first == (b"before the gate\n", 16, "running")

        gate.touch()
        log, status = first[0], first[2]
        deadline = time.monotonic() + 60
        while status not in FINAL or len(log) < size:
            assert time.monotonic() < deadline, (log, status)
            data, size, status = read_from(len(log))
            log += data
            if not data:
                time.sleep(0.1)  # as log.js waits before asking again
        assert (status, log) == ("succeeded", b"before the gate\nafter the gate\n")
        assert orchestra.log(identifier) == log  # the service process reads the same
    finally:
        orchestra.stop()
