"""What Orchestra needs of every database it runs on (marked `database`: run on each)."""

import threading
import time

import pytest
from django.contrib.auth.models import Group
from django.db import DataError, connection, transaction

from orchestra.database import atomic, locked, retried_on_conflict
from projects.models import Project
from runs.models import Resource

pytestmark = pytest.mark.database


@pytest.mark.django_db
def test_text_is_stored_with_every_character():
    name = "Déploiement 🚀 部署"  # the rocket needs four bytes in UTF-8
    Project.objects.create(identifier="p", display_name=name)
    assert Project.objects.get(identifier="p").display_name == name
    assert Project.objects.filter(display_name=name).count() == 1


@pytest.mark.django_db
def test_identifiers_that_differ_only_in_case_or_trailing_spaces_are_different():
    Resource.objects.create(identifier="db")
    Resource.objects.create(identifier="DB")
    assert list(Resource.objects.filter(identifier="db").values_list("identifier", flat=True)) == ["db"]
    assert not Resource.objects.filter(identifier="db ").exists()


@pytest.mark.django_db
def test_a_value_longer_than_its_column_is_refused_not_cut():
    if connection.vendor in ("sqlite", "mongodb"):
        pytest.skip("SQLite keeps text of any length in any column, MongoDB has no columns: "
                    "nothing is ever cut")
    with pytest.raises(DataError), atomic():
        Resource.objects.create(identifier="x" * 101)
    assert not Resource.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_transaction_reads_what_other_connections_committed_since_it_began():
    """Claims and log appends retry inside their transaction after another master's commit:
    they must see it (READ COMMITTED)."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's write transactions hold the database from their start: no other "
                    "connection commits meanwhile")
    if connection.vendor == "mongodb":
        pytest.skip("MongoDB's transactions read a snapshot: one that meets another's commit "
                    "conflicts and is retried whole (retried_on_conflict, tested below)")

    def commit_elsewhere() -> None:
        try:
            Resource.objects.create(identifier="elsewhere")
        finally:
            connection.close()

    with atomic():
        assert Resource.objects.count() == 0
        other = threading.Thread(target=commit_elsewhere)
        other.start()
        other.join()
        assert Resource.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_locking_rows_leaves_the_rows_joined_to_them_unlocked():
    """A pipeline locks its run, read with its job: a claim of the job must not wait for it."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has no row locks: a write transaction holds the whole database")
    if connection.vendor == "mongodb":
        pytest.skip("MongoDB has no joins to lock: locked() writes the queryset's own documents")
    from orchestra.audit import SYSTEM
    from projects.models import Job
    from runs.actions import do_trigger_run
    from runs.models import Run

    project = Project.objects.create(identifier="p", display_name="P")
    job = Job.objects.create(project=project, identifier="j", display_name="j", steps=[])
    run = do_trigger_run(job, {}, SYSTEM)
    answers = []

    def lock_elsewhere(model, pk) -> None:
        try:
            with transaction.atomic():
                answers.append(model.objects.select_for_update(nowait=True).filter(pk=pk).exists())
        except Exception as error:  # the answer the test compares
            answers.append(type(error).__name__)
        finally:
            connection.close()

    with transaction.atomic():
        assert locked(Run.objects.select_related("job", "project").filter(pk=run.pk)).get().job == job
        for model, pk in ((Job, job.pk), (Project, project.pk), (Run, run.pk)):
            other = threading.Thread(target=lock_elsewhere, args=(model, pk))
            other.start()
            other.join()
    assert answers == [True, True, "OperationalError"]


# SQLite's test database is in memory, shared between threads, and refuses a second writer
# outright: its write transactions take the whole database's lock at BEGIN.
@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite's in-memory test database")
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
