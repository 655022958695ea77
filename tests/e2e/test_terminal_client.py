"""The terminal client (`python -m orchestra.client`), run as a subprocess against a real
runmaster and runworker_client, as a person or a CI script runs it."""

import functools
import http.server
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.harness import ROOT, Orchestra

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def orchestra(tmp_path_factory):
    """One installation for the module: a master and a worker."""
    installation = Orchestra(tmp_path_factory.mktemp("client"))
    try:
        installation.start_master()
        installation.start_worker("client-worker")
        installation.wait_for_workers("client-worker")
        yield installation
    finally:
        installation.stop()


def client_env(orchestra: Orchestra, url: str | None = None, token: str | None = None) -> dict:
    """Only what a user's shell would have: no Django settings, no database."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("ORCHESTRA_", "DJANGO_"))}
    return {**env, "ORCHESTRA_URL": url or orchestra.url,
            "ORCHESTRA_TOKEN": token or orchestra.admin_token}


def client(orchestra: Orchestra, *arguments: str, url: str | None = None,
           token: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestra.client", *arguments], cwd=ROOT,
        env=client_env(orchestra, url, token), capture_output=True, text=True, timeout=120,
    )


def test_trigger_and_follow_prints_the_identifier_then_the_log_and_exits_0(orchestra):
    done = client(orchestra, "trigger", "examples/echo", "-p", "text=hi", "--follow")
    assert done.returncode == 0, done.stderr
    identifier, log = done.stdout.split("\n", 1)
    assert log == "hi\n"
    assert done.stderr == f"orchestra: run {identifier} succeeded\n"
    assert orchestra.run(identifier)["parameters"] == {"text": "hi"}


def test_a_followed_run_that_fails_exits_1(orchestra):
    done = client(orchestra, "trigger", "examples/fail", "--follow")
    assert done.returncode == 1, done.stderr
    identifier, log = done.stdout.split("\n", 1)
    assert log == "failing on purpose\n[orchestra] step 'fail' exited with status 1\n"
    assert done.stderr == f"orchestra: run {identifier} failed\n"


def test_a_followed_run_that_ends_otherwise_exits_2_and_abort_stops_it(orchestra):
    follower = subprocess.Popen(
        [sys.executable, "-m", "orchestra.client", "trigger", "examples/slow-count",
         "-p", "lines:=100", "-p", "delay:=1", "--follow"],
        cwd=ROOT, env=client_env(orchestra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        # Its identifier, then its first line as soon as it is printed: the run goes on.
        identifier = follower.stdout.readline().decode().strip()
        assert follower.stdout.readline() == b"line 1\n"
        assert orchestra.run(identifier)["parameters"] == {"lines": 100, "delay": 1}
        stopped = client(orchestra, "abort", identifier)
        assert (stopped.returncode, stopped.stdout) == (0, f"{identifier} running, asked to stop\n")
        assert follower.wait(timeout=60) == 2
        assert follower.stderr.read().decode() == f"orchestra: run {identifier} aborted\n"
    finally:
        follower.kill()
        follower.wait()
        follower.stdout.close()
        follower.stderr.close()


def test_runs_lists_the_latest_runs_and_log_writes_a_runs_log(orchestra):
    done = client(orchestra, "trigger", "examples/echo", "-p", "text=listed", "--follow")
    identifier = done.stdout.split("\n", 1)[0]
    listed = client(orchestra, "runs", "--project", "examples", "--job", "echo", "--status", "succeeded")
    assert listed.returncode == 0, listed.stderr
    first = listed.stdout.splitlines()[0].split()
    assert first[:3] == [identifier, "examples/echo", "succeeded"]
    assert all(line.split()[1:3] == ["examples/echo", "succeeded"] for line in listed.stdout.splitlines())
    log = client(orchestra, "log", identifier)
    assert (log.returncode, log.stdout, log.stderr) == (0, "listed\n", "")


@pytest.mark.parametrize("arguments, token, error", [
    (["runs"], "not-a-token",
     "orchestra: 401 the token was refused: unknown, expired or revoked (check ORCHESTRA_TOKEN)\n"),
    (["trigger", "examples/no-such-job"], None,
     "orchestra: 404 Not found.\n"),
    (["trigger", "examples/echo", "-p", "colour=red"], None,
     "orchestra: 400 unknown parameter 'colour'\n"),
    (["trigger", "examples"], None,
     "orchestra trigger: argument PROJECT/JOB: expected PROJECT/JOB, got 'examples' (see --help)\n"),
])
def test_an_error_is_one_line_and_a_non_zero_exit(orchestra, arguments, token, error):
    done = client(orchestra, *arguments, token=token)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", error)


def test_an_unreachable_service_is_one_line(orchestra):
    done = client(orchestra, "runs", url="http://127.0.0.1:9")
    assert done.returncode == 2
    assert done.stderr == "orchestra: cannot reach http://127.0.0.1:9: [Errno 111] Connection refused\n"


def test_an_address_that_is_not_orchestra_is_one_line(orchestra, tmp_path):
    """A web server that answers, but not JSON: ORCHESTRA_URL names something else."""
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "runs").write_text("<html>a web site</html>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        done = client(orchestra, "runs", url=url)
    finally:
        server.shutdown()
        server.server_close()
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"orchestra: {url}/api/runs did not answer JSON: is ORCHESTRA_URL the "
                           "address of Orchestra?\n")


def test_the_client_needs_only_the_standard_library():
    """Without `site` (-S), no installed package is importable: the client loads all the same,
    and nothing but the standard library and itself."""
    code = ("import sys, orchestra.client; print(sorted({name.split('.')[0] for name in sys.modules}"
            " - set(sys.stdlib_module_names) - {'__main__'}))")
    done = subprocess.run([sys.executable, "-S", "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout == "['orchestra']\n"


class DropsFirstAnswer(http.server.BaseHTTPRequestHandler):
    """Passes requests to the master, but drops the first answer: the trigger happened, and
    the client never hears of it (a timeout, a connection lost on the way back)."""

    master = ""
    answered = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
        request = urllib.request.Request(self.master + self.path, body, headers, method="POST")
        try:
            with urllib.request.urlopen(request) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read()
        DropsFirstAnswer.answered += 1
        if DropsFirstAnswer.answered == 1:
            self.close_connection = True
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


def test_a_trigger_whose_answer_was_lost_is_sent_again_and_starts_one_run(orchestra):
    DropsFirstAnswer.master = orchestra.url
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DropsFirstAnswer)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        done = client(orchestra, "trigger", "examples/echo", "-p", "text=retried",
                      url=f"http://127.0.0.1:{proxy.server_port}")
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert done.returncode == 0, done.stderr
    assert DropsFirstAnswer.answered == 2
    status, runs = orchestra.api("GET", "/api/runs?job=echo&page_size=100")
    assert [run["identifier"] for run in runs["results"] if run["parameters"] == {"text": "retried"}] == [
        done.stdout.strip()
    ]


def test_the_masters_metrics_count_the_runs_the_client_saw_through(orchestra):
    token = orchestra.create_user("prometheus", "monitor")
    request = urllib.request.Request(f"{orchestra.url}/metrics", headers={"Authorization": f"Bearer {token}"})

    def scrape() -> dict:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return {(sample.name, tuple(sorted((k, v) for k, v in sample.labels.items() if k != "master"))): sample.value
                for family in text_string_to_metric_families(text) for sample in family.samples}

    before = scrape()
    assert client(orchestra, "trigger", "examples/echo", "-p", "text=counted", "--follow").returncode == 0
    after = scrape()
    ended = ("orchestra_runs_ended_total", (("project", "examples"), ("status", "succeeded")))
    assert after[ended] - before.get(ended, 0) == 1
    started = ("orchestra_run_trigger_to_running_seconds_count", (("project", "examples"),))
    assert after[started] - before.get(started, 0) == 1
    received = ("orchestra_log_bytes_received_total", ())
    assert after[received] - before[received] == len("counted\n")
    assert after["orchestra_workers_connected", ()] == 1
