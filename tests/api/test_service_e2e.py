"""The service and the login against a real master and worker (processes, sockets)."""

import http.cookiejar
import io
import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from datetime import datetime

import pytest

from tests.e2e.conftest import e2e_database, orchestra, orchestra_on_each_database  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e
SCRIPT = "<script>alert(1)</script>"


def fetch(url: str, token: str | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_service_roles_trigger_results_filter_log_and_archive(orchestra_on_each_database):  # noqa: F811
    orchestra = orchestra_on_each_database
    operator = orchestra.create_user("olga", "operator")
    viewer = orchestra.create_user("victor", "viewer")
    orchestra.start_worker("service-worker")

    assert fetch(f"{orchestra.url}/api/runs")[0] == 401
    status, body = orchestra.api("POST", "/api/projects/examples/jobs/echo/trigger", {}, token=viewer)
    assert status == 403 and body["error"]

    run = orchestra.trigger("examples", "echo", {"text": SCRIPT}, token=operator)
    finished = orchestra.wait_for_run(run["identifier"])
    assert finished["status"] == "succeeded" and finished["results"] == {"text": SCRIPT}
    assert finished["triggered_by"] == "olga" and finished["duration_seconds"] is not None

    query = urllib.parse.urlencode({"results__text": SCRIPT, "job": "echo"})
    status, found = orchestra.api("GET", f"/api/runs?{query}", token=viewer)
    assert [item["identifier"] for item in found["results"]] == [run["identifier"]]

    log_url = f"{orchestra.url}/api/runs/{run['identifier']}/steps/0/log"
    status, first, headers = fetch(f"{log_url}?offset=0&limit=8", token=viewer)
    assert status == 200 and first == SCRIPT.encode()[:8]
    assert headers["X-Log-Size"] == str(len(SCRIPT) + 1) and headers["X-Run-Status"] == "succeeded"
    rest = fetch(f"{log_url}?offset=8", token=viewer)[1]
    assert first + rest == f"{SCRIPT}\n".encode()

    assert fetch(f"{orchestra.url}/api/runs/{run['identifier']}/archive", token=viewer)[0] == 403
    status, body, headers = fetch(f"{orchestra.url}/api/runs/{run['identifier']}/archive", token=operator)
    assert status == 200 and headers["Content-Type"] == "application/zip"
    assert headers["Content-Disposition"] == f'attachment; filename="examples-echo-{run["identifier"]}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.namelist() == ["run.json", "results.json", "logs/0-echo.log"]
    stored = json.loads(archive.read("run.json"))
    fields = ("identifier", "project", "job", "parameters", "status", "worker", "source", "results")
    assert {name: stored[name] for name in fields} == {name: finished[name] for name in fields}
    assert [(step["index"], step["name"], step["status"]) for step in stored["steps"]] == [(0, "echo", "succeeded")]
    for moment in ("created", "started", "completed"):
        assert datetime.fromisoformat(stored[moment]) == datetime.fromisoformat(finished[moment])
    assert json.loads(archive.read("results.json")) == {"text": SCRIPT}
    assert archive.read("logs/0-echo.log") == f"{SCRIPT}\n".encode()

    status, audit = orchestra.api("GET", "/api/audit?action=run.trigger")
    assert [(record["actor"], record["target"]) for record in audit["results"]] == [
        ("olga", run["identifier"])
    ]


def test_login_session_cookie_and_logout_over_http(orchestra):  # noqa: F811
    orchestra.create_user("paula", "viewer")
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = browser.open(f"{orchestra.url}/login/", timeout=30).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    form = urllib.parse.urlencode(
        {"username": "paula", "password": "paula-password-e2e", "csrfmiddlewaretoken": csrf}
    ).encode()
    poster = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    try:
        poster.open(f"{orchestra.url}/login/", data=form, timeout=30)
        raise AssertionError("the login should redirect")
    except urllib.error.HTTPError as answer:
        assert answer.code == 302
        set_cookie = " ".join(answer.headers.get_all("Set-Cookie"))
    assert "orchestra_session=" in set_cookie and "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie and "Secure" not in set_cookie
    profile = browser.open(f"{orchestra.url}/me/", timeout=30)
    assert profile.status == 200 and "paula" in profile.read().decode()

    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    logout = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf}).encode()
    browser.open(f"{orchestra.url}/logout/", data=logout, timeout=30)
    after = browser.open(f"{orchestra.url}/me/", timeout=30)
    assert after.url.startswith(f"{orchestra.url}/login/")


def raw_request(orchestra, request: bytes) -> tuple[int, str, bytes]:  # noqa: F811
    """Send bytes no HTTP library would send; returns (status, Content-Type, body)."""
    with socket.create_connection(("127.0.0.1", orchestra.port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), body


def test_the_http_server_refuses_service_requests_in_json(orchestra):  # noqa: F811
    """daphne and Twisted answer some requests before Django sees them: a POSTed body is left
    to the service to judge, and daphne's own refusals are JSON under /api/ too."""
    multipart = (
        b"POST /api/projects/examples/jobs/hello/trigger HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=xx\r\nContent-Length: 1\r\n"
        b"Connection: close\r\n\r\nx"
    )
    status, kind, body = raw_request(orchestra, multipart)
    assert (status, kind) == (401, "application/json") and json.loads(body)["error"]
    token = orchestra.admin_token.encode()
    authenticated = multipart.replace(b"Host:", b"Authorization: Bearer " + token + b"\r\nHost:")
    status, kind, body = raw_request(orchestra, authenticated)
    assert (status, kind) == (415, "application/json") and json.loads(body)["error"]
    # A header daphne cannot pass on (a vertical tab in a value): JSON under /api/ only.
    odd_header = b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Odd: a\x0bb\r\nConnection: close\r\n\r\n"
    status, kind, body = raw_request(orchestra, odd_header)
    assert (status, kind) == (400, "application/json") and json.loads(body)["error"]
    website = odd_header.replace(b"/api/runs", b"/runs/")
    assert raw_request(orchestra, website)[:2] == (400, "text/html; charset=utf-8")
