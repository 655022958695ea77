from tests.postgres import postgres_database, race_database, run_scenario  # noqa: F401 (fixtures)
from tests.projects.delivery_race import MASTERS, ROUNDS


def test_the_same_delivery_at_once_on_several_masters_makes_one_set_of_runs(race_database, tmp_path):
    report = run_scenario("tests.projects.delivery_race", race_database, tmp_path)
    assert len(report) == ROUNDS
    for round_ in report:
        [run] = round_["runs"]
        # Every master answers the one run; exactly one of them triggered it.
        assert sorted(round_["answers"]) == [[[run], False]] * (MASTERS - 1) + [[[run], True]], round_
