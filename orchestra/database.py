"""What differs between the databases Orchestra runs on, in one place."""

from django.db import connection
from django.db.models import QuerySet


def locked(queryset: QuerySet) -> QuerySet:
    """The rows of `queryset`, locked until the transaction ends, and only they.

    Rows of joined tables (a default ordering or select_related joins them) are left alone:
    the default ordering is dropped, and where the database cannot name the table to lock
    (`OF self`: MariaDB) the joins of select_related are not made, so its related objects are
    read when first used. The lock is FOR NO KEY UPDATE where it exists (PostgreSQL):
    inserting a row that refers to a locked one (a run of a locked job) does not wait for it,
    so a claim never blocks a trigger nor deadlocks with one. MariaDB has only FOR UPDATE,
    which such an insert's foreign key check waits for: a trigger of a job waits for a claim
    holding the job's row, which is short and takes no lock a trigger holds. SQLite has no row
    locks: its write transactions take the database's lock at BEGIN (`transaction_mode`
    IMMEDIATE).
    """
    features = connection.features
    if not features.has_select_for_update_of:
        queryset = queryset.select_related(None)
    return queryset.select_for_update(
        no_key=features.has_select_for_no_key_update,
        of=("self",) if features.has_select_for_update_of else (),
    ).order_by()
