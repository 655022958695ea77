from tests.postgres import postgres_database, race_database, run_scenario  # noqa: F401 (fixtures)
from tests.runs.notification_race import DELIVERIES, FAILURES, MASTERS


def test_masters_sending_the_same_outbox_at_once_send_each_attempt_once(race_database, tmp_path):
    report = run_scenario("tests.runs.notification_race", race_database, tmp_path)
    # Each delivery reached the receiver exactly as often as it has recorded attempts: no two
    # masters sent the same attempt. Each of the receiver's 500s cost one more attempt.
    assert report["received"] == report["attempts"]
    assert len(report["received"]) == DELIVERIES
    assert sum(report["received"].values()) == DELIVERIES + FAILURES
    assert report["states"] == {"delivered": DELIVERIES}
    assert len(report["sent"]) == MASTERS and sum(report["sent"]) == DELIVERIES + FAILURES
