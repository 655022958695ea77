"""A connection's count of the master's own failures to store a run (workers.consumer_records)."""

from django.db import DatabaseError

from workers.consumer_records import MAX_INTERNAL_FAILURES, ConnectionRecords


class FailingConnection(ConnectionRecords):
    """A connection whose database refuses even to end the run."""

    def __init__(self):
        self.internal_failures = {}
        self.ended = []

    async def end_in_exception(self, run_identifier: str, message: str) -> None:
        self.ended.append(run_identifier)
        raise DatabaseError("the database is gone")


async def test_a_run_that_cannot_even_be_ended_after_repeated_failures_is_logged_and_kept(caplog):
    connection = FailingConnection()
    error = DatabaseError("disk full")
    answers = [await connection.failed_too_often("r1", error) for _ in range(MAX_INTERNAL_FAILURES)]
    assert answers == [False] * MAX_INTERNAL_FAILURES
    assert connection.ended == ["r1"]
    assert "ending run r1 failed too" in caplog.text
    assert connection.internal_failures == {"r1": MAX_INTERNAL_FAILURES}
