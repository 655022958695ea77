"""Issue 11: retention with a real master and worker: `kept` keeps its last three runs."""

import pytest

from tests.e2e.harness import Orchestra, poll

pytestmark = pytest.mark.e2e


def test_five_runs_of_kept_leave_the_last_three_and_the_audit_log_says_so(tmp_path):
    orchestra = Orchestra(tmp_path, configuration="tests.e2e.configuration")
    try:
        orchestra.start_master()
        orchestra.start_worker("steady")
        runs = []
        for _ in range(5):
            run = orchestra.trigger("examples", "kept")["identifier"]
            assert orchestra.wait_for_run(run)["status"] == "succeeded"
            runs.append(run)

        def listed() -> list[str]:
            status, body = orchestra.api("GET", "/api/runs?job=kept&ordering=created")
            assert status == 200, body
            return [run["identifier"] for run in body["results"]]

        poll(lambda: listed() == runs[2:], 30, lambda: f"kept holds {listed()}, not {runs[2:]}")
        for gone in runs[:2]:
            assert orchestra.api("GET", f"/api/runs/{gone}")[0] == 404
            assert not (orchestra.data_dir / "logs" / gone[:2] / gone).exists()
        assert orchestra.log(runs[-1]) == b"kept\n"
        status, audit = orchestra.api("GET", "/api/audit?action=run.delete&ordering=created")
        assert status == 200, audit
        assert [(event["target"], event["actor"]) for event in audit["results"]] == [
            (runs[0], "retention"), (runs[1], "retention")]
    finally:
        orchestra.stop()
