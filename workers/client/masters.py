"""Which master the worker client connects to next, and how long it waits first: failover.

A worker may be given several master URLs (`--master-url` repeated). It keeps one connection,
to one of them; when that connection ends or cannot be made, it moves to the next URL in the
order given (after the last, the first again), waiting a back-off delay first. The delays grow
while connections keep failing and start again from the shortest once a master answered the
worker's hello, so a worker whose master died reaches the next one within a second or so, and
a worker none of whose masters answers does not hammer them.

Changing masters is a reconnection like any other: the hello reports every run the worker holds
and the master that answers it resumes them from the offsets in the database (docs/protocol.md).
"""

import itertools
import random
from collections.abc import Iterator

BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 15.0


def backoff_delays(first: float = BACKOFF_FIRST_SECONDS, cap: float = BACKOFF_MAX_SECONDS) -> Iterator[float]:
    """Exponential delays with jitter (half to full), capped: workers that failed together
    (a master restart, a database outage) do not all try again at the same moment."""
    for attempt in itertools.count():
        yield min(cap, first * 2**attempt) * random.uniform(0.5, 1.0)


class MasterList:
    """The master URLs of one worker, the one to connect to now, and the back-off."""

    def __init__(self, urls: list[str]):
        # A URL given twice would only make the worker try a dead master twice in a row.
        self.urls = list(dict.fromkeys(urls))
        if not self.urls:
            raise ValueError("a worker needs at least one master URL")
        self.position = 0
        self.delays = backoff_delays()

    @property
    def current(self) -> str:
        return self.urls[self.position]

    def answered(self) -> None:
        """The current master answered the hello: the next failure waits the shortest delay."""
        self.delays = backoff_delays()

    def lost(self) -> float:
        """The connection to the current master ended or could not be made: move to the next
        master; returns how long to wait before connecting to it."""
        self.position = (self.position + 1) % len(self.urls)
        return next(self.delays)
