"""Scenarios of several masters acting at once, each run as `python -m <module>` in a
subprocess by `tests.postgres.run_scenario`, against the database ORCHESTRA_DATABASE_URL names
(Django picks its database when settings load)."""

import os
import threading
from collections.abc import Callable
from typing import TypeVar

import django
from django.core.management import call_command
from django.db import connection

T = TypeVar("T")


def set_up_examples() -> None:
    """Django, the migrated database and the example configuration."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra.settings")
    django.setup()
    # Only once Django is set up can the configuration (and its models) be imported.
    from projects.configuration import load_configuration

    call_command("migrate", verbosity=0)
    load_configuration("examples.configuration")


def at_once(*works: Callable[[], T]) -> list[T]:
    """What each of `works` returns, each run by a thread of its own (a "master" with its own
    database connection), all released together."""
    barrier = threading.Barrier(len(works))
    results: list[T] = []

    def master(work: Callable[[], T]) -> None:
        try:
            barrier.wait()
            results.append(work())
        finally:
            connection.close()

    threads = [threading.Thread(target=master, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def race_after_a_look(owner: object, lookup: str, act: Callable[[str], T], keys: list[str],
                      masters: int, runs_of: Callable[[str], list[str]]) -> list[dict]:
    """For each of `keys`, what `masters` threads answered `act(key)` at once, and then
    `runs_of(key)`. Each thread's first call of `owner.<lookup>` (its look for what another
    thread may have stored) is held until every thread has looked, so that each round is the
    race itself: all of them found nothing and all try to store."""
    looked = threading.local()
    original = getattr(owner, lookup)

    def held_lookup(*args):
        found = original(*args)
        if not getattr(looked, "once", False):
            looked.once = True
            gate.wait()
        return found

    def acting(key: str) -> T:
        looked.once = False
        return act(key)

    setattr(owner, lookup, held_lookup)
    try:
        report = []
        for key in keys:
            gate = threading.Barrier(masters)
            answers = at_once(*[lambda: acting(key)] * masters)
            report.append({"answers": answers, "runs": runs_of(key)})
        return report
    finally:
        setattr(owner, lookup, original)
