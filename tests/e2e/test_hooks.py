"""The example hook `echo` against a real runmaster and runworker_client, called the way GitHub
calls a webhook: a signed JSON body, X-Hub-Signature-256 and X-GitHub-Delivery."""

import hashlib
import hmac
import json
import urllib.error
import urllib.request

import pytest

from tests.e2e.harness import Orchestra

pytestmark = pytest.mark.e2e

SECRET = "e2e hook secret"
HOOK = "/api/hooks/examples/echo"


@pytest.fixture(scope="module")
def orchestra(tmp_path_factory):
    """A master whose environment holds the hook's secret, and a worker."""
    installation = Orchestra(tmp_path_factory.mktemp("hooks"),
                             env={"ORCHESTRA_HOOK_SECRET_ECHO": SECRET})
    try:
        installation.start_master()
        installation.start_worker("hook-worker")
        installation.wait_for_workers("hook-worker")
        yield installation
    finally:
        installation.stop()


def deliver(url: str, payload: dict, *, secret: str | None = SECRET,
            delivery: str | None = None) -> tuple[int, dict]:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(f"{url}{HOOK}", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("X-GitHub-Event", "push")
    if secret is not None:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        request.add_header("X-Hub-Signature-256", f"sha256={digest}")
    if delivery is not None:
        request.add_header("X-GitHub-Delivery", delivery)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def run_identifiers(orchestra: Orchestra) -> list[str]:
    status, body = orchestra.api("GET", "/api/runs?job=echo")
    assert status == 200, body
    return [run["identifier"] for run in body["results"]]


def test_a_signed_delivery_runs_echo_with_the_payloads_text(orchestra):
    status, answer = deliver(orchestra.url, {"text": "pushed by a hook"}, delivery="e2e-1")
    assert status == 201, answer
    [identifier] = answer["runs"]
    run = orchestra.wait_for_run(identifier)
    assert (run["status"], run["parameters"], run["source"], run["hook"]) == (
        "succeeded", {"text": "pushed by a hook"}, "hook", "echo",
    )
    assert orchestra.log(identifier) == b"pushed by a hook\n"
    status, events = orchestra.api("GET", f"/api/audit?action=run.trigger&target={identifier}")
    assert [event["actor"] for event in events["results"]] == ["hook:examples/echo"]


@pytest.mark.parametrize("secret, reason", [
    (None, "the X-Hub-Signature-256 header is missing"),
    ("not the secret", "the X-Hub-Signature-256 signature is wrong"),
])
def test_a_missing_or_wrong_signature_gets_401_triggers_nothing_and_is_audited(orchestra, secret, reason):
    before = run_identifiers(orchestra)
    status, answer = deliver(orchestra.url, {"text": "forged"}, secret=secret, delivery=f"e2e-{reason}")
    assert (status, answer) == (401, {"error": reason})
    assert run_identifiers(orchestra) == before
    status, events = orchestra.api("GET", "/api/audit?action=hook.refused")
    assert [event["details"] for event in events["results"]].count({"reason": reason}) == 1


def test_a_repeated_delivery_triggers_once(orchestra):
    before = run_identifiers(orchestra)
    first = deliver(orchestra.url, {"text": "once"}, delivery="e2e-repeated")
    again = deliver(orchestra.url, {"text": "once"}, delivery="e2e-repeated")
    assert (first[0], again[0]) == (201, 200)
    assert again[1] == first[1]
    assert run_identifiers(orchestra) == first[1]["runs"] + before
    assert orchestra.wait_for_run(first[1]["runs"][0])["status"] == "succeeded"


def test_without_its_secret_the_hook_refuses_every_call_and_the_master_says_so(tmp_path):
    installation = Orchestra(tmp_path, env={"ORCHESTRA_HOOK_SECRET_ECHO": ""})
    try:
        installation.start_master()
        status, answer = deliver(installation.url, {"text": "hi"})
        assert status == 503 and "ORCHESTRA_HOOK_SECRET_ECHO" in answer["error"]
        assert run_identifiers(installation) == []
        assert ("hook examples/echo refuses every call: its secret, the environment variable "
                "ORCHESTRA_HOOK_SECRET_ECHO, is not set\n") in installation.output("master")
    finally:
        installation.stop()
