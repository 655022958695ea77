from tests.postgres import postgres_database, race_database, run_scenario  # noqa: F401 (fixtures)
from tests.workers.claim_race import EXECUTORS, ROUNDS


def test_masters_claiming_at_once_never_give_a_worker_more_runs_than_executors(race_database, tmp_path):
    report = run_scenario("tests.workers.claim_race", race_database, tmp_path)
    assert report["held"] == [EXECUTORS] * ROUNDS


def test_masters_claiming_at_once_never_exceed_a_jobs_limit_or_a_resources_capacity(race_database, tmp_path):
    report = run_scenario("tests.workers.limit_race", race_database, tmp_path)
    assert report == {"exclusive": [1] * 5, "deploy-prod": [1] * 5}


def test_a_claim_of_a_limited_job_waits_for_the_lock_and_counts_what_its_holder_did(race_database, tmp_path):
    report = run_scenario("tests.workers.limit_lock", race_database, tmp_path)
    assert report == {
        "job": {"finished_while_locked": False, "claim": "LIMITED"},
        "resource": {"finished_while_locked": False, "claim": "LIMITED"},
    }
