"""`make run`'s command: a newcomer reads the printed URL and login, logs in, triggers an
example job and sees it succeed with its log."""

import http.cookiejar
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from tests.e2e.harness import MANAGE, ROOT, SECRET_KEY, free_port

pytestmark = pytest.mark.e2e

LOGIN_LINE = re.compile(r"running at (http://\S+/)\s+Log in as '(\w+)' with password '([^']+)'")


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
        deadline = time.monotonic() + 120
        while not (found := LOGIN_LINE.search(output.read_text())):
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.2)
        yield process, found.groups(), output
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


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

    deadline = time.monotonic() + 60
    while "succeeded" not in (page := get(f"/runs/{identifier}/")):
        assert time.monotonic() < deadline, page
        time.sleep(0.2)
    assert "Hello from local-worker" in get(f"/runs/{identifier}/log/")

    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=30) == 0, output.read_text()
