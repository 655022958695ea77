"""Login throttling holds when many wrong guesses arrive at once, on SQLite and on PostgreSQL."""

import pytest

from tests.orchestra.login_race import GUESSES, LIMIT
from tests.postgres import postgres_database, run_scenario  # noqa: F401 (fixture)


def assert_at_most_the_limit_was_judged(results: dict) -> None:
    assert results["limit"] == LIMIT
    for round_name in ("per user name", "per address"):
        result = results[round_name]
        judged = result["reached the password check"]
        assert judged <= LIMIT, (round_name, result)
        # Every guess judged is a recorded failure answered as such; every other one is a 429.
        assert result["statuses"] == [200] * judged + [429] * (GUESSES - judged), (round_name, result)
        assert result["recorded"] == judged, (round_name, result)


def test_parallel_wrong_guesses_on_sqlite_are_judged_at_most_limit_times(tmp_path):
    database = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    assert_at_most_the_limit_was_judged(run_scenario("tests.orchestra.login_race", database, tmp_path))


@pytest.mark.postgres
def test_parallel_wrong_guesses_on_postgresql_are_judged_at_most_limit_times(postgres_database, tmp_path):
    results = run_scenario("tests.orchestra.login_race", postgres_database, tmp_path)
    assert_at_most_the_limit_was_judged(results)
