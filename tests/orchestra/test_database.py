"""orchestra.database: a locked row is written by one transaction at a time, on every
database (SQL waits at the lock; MongoDB's second writer conflicts and is retried)."""

import threading
import time

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from orchestra.database import atomic, locked, retried_on_conflict

pytestmark = [
    pytest.mark.database,
    # SQLite's test database is in memory, shared between threads, and refuses a second
    # writer outright: its write transactions take the whole database's lock at BEGIN.
    pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite's in-memory test database"),
]


def test_a_second_locker_goes_on_only_once_the_first_committed(transactional_db):
    group = Group.objects.create(name="locked")
    first_holds, events = threading.Event(), []

    def first() -> None:
        try:
            with atomic():
                list(locked(Group.objects.filter(pk=group.pk)))
                first_holds.set()
                time.sleep(1)
                Group.objects.filter(pk=group.pk).update(name="first")
                events.append("first commits")
        finally:
            connection.close()

    @retried_on_conflict
    def second() -> None:
        with atomic():
            name = locked(Group.objects.filter(pk=group.pk)).values_list("name", flat=True).get()
            events.append(f"second read {name}")

    holder = threading.Thread(target=first)
    holder.start()
    assert first_holds.wait(30)
    second()
    holder.join(30)
    assert events == ["first commits", "second read first"]
