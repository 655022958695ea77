"""Two masters on PostgreSQL: triggers with one Idempotency-Key, sent to both at once, make
one run; every answer names it."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from tests.e2e.harness import Orchestra
from tests.postgres import postgres_database  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

TRIGGERS = 8


def test_triggers_with_one_key_sent_to_two_masters_at_once_make_one_run(tmp_path, postgres_database):  # noqa: F811
    orchestra = Orchestra(tmp_path, env={"ORCHESTRA_DATABASE_URL": postgres_database})
    try:
        orchestra.start_master()
        masters = [orchestra.url, orchestra.start_extra_master()]
        barrier = threading.Barrier(TRIGGERS)
        answers = []

        def trigger(url: str) -> None:
            request = urllib.request.Request(
                f"{url}/api/projects/examples/jobs/echo/trigger", method="POST",
                data=json.dumps({"parameters": {"text": "once"}}).encode(),
                headers={"Authorization": f"Bearer {orchestra.admin_token}",
                         "Content-Type": "application/json", "Idempotency-Key": "release-1.0"},
            )
            barrier.wait()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    answers.append((response.status, json.load(response)["identifier"]))
            except urllib.error.HTTPError as error:
                answers.append((error.code, error.read().decode()))

        threads = [threading.Thread(target=trigger, args=(masters[index % 2],)) for index in range(TRIGGERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        status, runs = orchestra.api("GET", "/api/runs?job=echo")
        assert status == 200, runs
        [run] = [run["identifier"] for run in runs["results"]]
        assert sorted(answers) == [(200, run)] * (TRIGGERS - 1) + [(201, run)]
    finally:
        orchestra.stop()
