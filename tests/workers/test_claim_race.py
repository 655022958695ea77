from tests.postgres import postgres_database, race_database, run_scenario  # noqa: F401 (fixtures)
from tests.workers.claim_race import EXECUTORS, ROUNDS


def test_masters_claiming_at_once_never_give_a_worker_more_runs_than_executors(race_database, tmp_path):
    report = run_scenario("tests.workers.claim_race", race_database, tmp_path)
    assert report["held"] == [EXECUTORS] * ROUNDS
