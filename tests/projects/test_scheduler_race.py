from tests.postgres import race_database, run_scenario  # noqa: F401 (fixture)


def test_several_masters_trigger_one_run_per_tick(race_database, tmp_path):  # noqa: F811
    results = run_scenario("tests.projects.scheduler_race", race_database, tmp_path)
    assert results == {
        "9:00": 0, "9:00 active": 0,  # first sight: the 9:00 tick is recorded without a run
        "10:00": 1, "10:00 active": 1,  # four masters, one run
        "11:00": 0, "11:00 active": 1,  # the 10:00 run is still pending: no second one
        "12:00": 1, "12:00 active": 1,
        "13:00": 0, "13:00 active": 1,
        "runs": 2,
    }
