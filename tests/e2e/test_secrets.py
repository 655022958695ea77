"""Issue 13: a secret printed by a step, whole or split across pieces and log chunks, shows only
as `***` in the stored log, the results, the run page, the live log, the service, the archive
and the audit log; nothing the master or the worker keeps on disk holds it."""

import http.cookiejar
import io
import re
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.e2e.harness import Orchestra
from tests.e2e.secrets_configuration import CHUNK_BYTES

pytestmark = pytest.mark.e2e

SPLIT_TOKEN = "Sp1it-T0ken-5ecret-77"
EXAMPLE_TOKEN = "ex4mple-T0ken-9"


class Browser:
    """A person's session on the website (a session cookie after logging in)."""

    def __init__(self, url: str, username: str, password: str):
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        page = self.get("/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        data = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(url + "/login/", data=data, headers={"Referer": url})
        with self.opener.open(request, timeout=30) as response:
            assert not response.geturl().endswith("/login/")

    def get(self, path: str) -> bytes:
        with self.opener.open(self.url + path, timeout=60) as response:
            return response.read()


@pytest.fixture
def orchestra(tmp_path):
    installation = Orchestra(tmp_path, "tests.e2e.secrets_configuration", env={
        "ORCHESTRA_TEST_SPLIT_TOKEN": SPLIT_TOKEN,
        "ORCHESTRA_SECRET_EXAMPLE_TOKEN": EXAMPLE_TOKEN,
    })
    try:
        installation.start_master()
        # The worker gets the secrets from the master only, with each run.
        for name in ("ORCHESTRA_TEST_SPLIT_TOKEN", "ORCHESTRA_SECRET_EXAMPLE_TOKEN"):
            installation.env.pop(name)
        installation.start_worker("secret-worker")
        installation.wait_for_workers("secret-worker")
        yield installation
    finally:
        installation.stop()


def follow_live_log(browser: Browser, orchestra: Orchestra, identifier: str, step: int) -> bytes:
    """The step's log as the run page's live log reads it: by offset, while the run goes on."""
    data = b""
    while True:
        final = orchestra.run(identifier)["status"] in ("succeeded", "failed", "aborted", "exception")
        data += browser.get(f"/runs/{identifier}/steps/{step}/raw?offset={len(data)}")
        if final:
            return data


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


def test_a_secret_shows_only_as_stars_wherever_a_run_is_shown_or_stored(orchestra):
    browser = Browser(orchestra.url, "admin", "admin-password-e2e")
    leak = orchestra.trigger("secrets", "leak")["identifier"]
    live = follow_live_log(browser, orchestra, leak, 0)
    run = orchestra.wait_for_run(leak)
    assert run["status"] == "succeeded", run

    halves = b"start\nfirst *** second\ntwice ***\nend\n"
    assert live == halves
    assert orchestra.log(leak, 0) == halves
    long_line = b"x" * (CHUNK_BYTES - 2) + b"***" + b"y" * 10 + b"\n"
    assert orchestra.log(leak, 1) == long_line
    assert run["results"] == {"token": "***"}

    page = browser.get(f"/runs/{leak}/").decode()
    log_page = browser.get(f"/runs/{leak}/log/").decode()
    assert "first *** second" in page and "***" in page and "first *** second" in log_page
    with zipfile.ZipFile(io.BytesIO(browser.get(f"/runs/{leak}/archive"))) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    assert contents["logs/0-halves.log"] == halves
    assert contents["logs/1-long_line.log"] == long_line
    assert b'"token": "***"' in contents["results.json"]

    example = orchestra.trigger("examples", "show-secret")["identifier"]
    run = orchestra.wait_for_run(example)
    assert run["status"] == "succeeded", run
    assert orchestra.log(example) == b"the token is ***\n"
    assert run["results"] == {"token": "***"}

    status, audit = orchestra.api("GET", "/api/audit")
    assert status == 200
    shown = [
        page, log_page, repr(contents), repr(audit), repr(orchestra.run(leak)),
        repr(orchestra.api("GET", "/api/runs")[1]),
    ]
    for secret in (SPLIT_TOKEN, EXAMPLE_TOKEN):
        assert all(secret not in text for text in shown)
        # The master's logs and database, the worker's data and both processes' output.
        assert [path for path in files_under(orchestra.data_dir) if secret.encode() in path.read_bytes()] == []
