from tests.postgres import postgres_database, race_database, run_scenario  # noqa: F401 (fixtures)
from tests.runs.idempotency_race import MASTERS, ROUNDS


def test_triggers_with_the_same_key_at_once_on_several_masters_make_one_run(race_database, tmp_path):
    report = run_scenario("tests.runs.idempotency_race", race_database, tmp_path)
    assert len(report) == ROUNDS
    for round_ in report:
        [run] = round_["runs"]
        # Every master answers the one run; exactly one of them created it.
        assert sorted(round_["answers"]) == [[run, False]] * (MASTERS - 1) + [[run, True]], round_
