import pytest

from tests.postgres import postgres_database, run_scenario  # noqa: F401 (fixture)


@pytest.mark.postgres
def test_masters_starting_together_all_load_the_configuration(postgres_database, tmp_path):
    from examples.configuration import projects

    report = run_scenario("tests.projects.configuration_race", postgres_database, tmp_path)
    assert report == {
        "errors": [], "projects": 1, "jobs": len(projects[0].jobs), "schedules": 1,
    }
