import pytest

from tests.postgres import postgres_database, run_scenario  # noqa: F401 (fixture)


@pytest.mark.postgres
def test_children_ending_at_once_on_two_masters_start_the_next_element_once(postgres_database, tmp_path):
    report = run_scenario("tests.runs.pipeline_race", postgres_database, tmp_path)
    assert report["starts"] == [{"a": 1, "b": 1, "c": 1, "d": 1}] * len(report["starts"])
    assert set(report["statuses"]) == {"succeeded"}
