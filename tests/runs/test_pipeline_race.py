from tests.postgres import postgres_database, race_database, run_scenario  # noqa: F401 (fixtures)


def test_elements_ending_at_once_on_two_masters_start_the_next_element_once(race_database, tmp_path):
    report = run_scenario("tests.runs.pipeline_race", race_database, tmp_path)
    assert report["starts"] == [{"a": 1, "b": 1, "c": 1, "d": 1}] * len(report["starts"])
    assert report["statuses"] == ["succeeded"] * len(report["starts"])
