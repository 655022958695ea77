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
