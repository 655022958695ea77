"""Orchestra on MongoDB, end to end: a real runmaster and two runworker_client processes on a
SecantusDB server of the test's own (tests/mongodb.py). The examples run, the results filter
finds a run by its result, the archive downloads, and fifty runs spread over two workers are
each executed once."""

import io
import json
import urllib.request
import uuid
import zipfile
from collections import Counter

import pytest

from tests.e2e.harness import Orchestra
from tests.mongodb import mongodb_database  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def download(orchestra: Orchestra, path: str) -> bytes:
    request = urllib.request.Request(f"{orchestra.url}{path}")
    request.add_header("Authorization", f"Bearer {orchestra.admin_token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return response.read()


def test_orchestra_runs_on_mongodb(tmp_path, mongodb_database):  # noqa: F811
    orchestra = Orchestra(tmp_path, configuration="tests.e2e.scale_out_configuration", env={
        "ORCHESTRA_DATABASE_URL": mongodb_database,
    })
    try:
        orchestra.start_master()
        orchestra.start_worker("first", executors=2)
        orchestra.start_worker("second", executors=2)
        orchestra.wait_for_workers("first", "second")

        finished = {
            job: orchestra.wait_for_run(orchestra.trigger("examples", job)["identifier"], timeout=120)
            for job in ("hello", "results", "results-chain", "pipeline-diamond")
        }
        assert {job: run["status"] for job, run in finished.items()} == dict.fromkeys(
            finished, "succeeded"
        )
        hello = finished["hello"]
        assert orchestra.log(hello["identifier"]) == f"Hello from {hello['worker']}\n".encode()

        status, found = orchestra.api("GET", "/api/runs?results__answer=42&job=results")
        assert status == 200, found
        assert [run["identifier"] for run in found["results"]] == [finished["results"]["identifier"]]

        archive = zipfile.ZipFile(io.BytesIO(download(
            orchestra, f"/api/runs/{finished['results']['identifier']}/archive"
        )))
        assert json.loads(archive.read("results.json")) == {"answer": 42}

        # Fifty runs over two workers of two executors each: each writes one line of the
        # ledger when its step runs, so a run executed twice, or never, shows there.
        gate, ledger = tmp_path / "gate", tmp_path / "ledger"
        gate.touch()
        marker = uuid.uuid4().hex[:8]
        identifiers = [
            orchestra.trigger("scale-out", "gated-echo", {
                "text": f"{marker}-{index}", "gate": str(gate), "ledger": str(ledger),
            })["identifier"]
            for index in range(50)
        ]
        runs = [orchestra.wait_for_run(identifier, timeout=300) for identifier in identifiers]
        assert [run["status"] for run in runs] == ["succeeded"] * 50
        assert sorted(ledger.read_text().splitlines()) == sorted(
            f"{marker}-{index} {run['worker']}" for index, run in enumerate(runs)
        )
        assert set(Counter(run["worker"] for run in runs)) == {"first", "second"}
    finally:
        orchestra.stop()
