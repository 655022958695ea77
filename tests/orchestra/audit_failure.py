"""Making inserts into the audit log fail, as a full disk or a lost connection would, for tests
showing that a change is never made without its audit record.

Tests using it run with `transactional_db`: committed as they go, like requests, so no test
transaction can hide a change that stayed.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection


def trigger_statements(condition: str) -> tuple[list[str], list[str]]:
    """(statements creating the trigger, statements dropping it) for this database."""
    if connection.vendor == "postgresql":
        return (
            ["CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql "
             "AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$",
             "CREATE TRIGGER refuse_audit BEFORE INSERT ON orchestra_auditevent "
             f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION refuse_audit()"],
            ["DROP TRIGGER refuse_audit ON orchestra_auditevent", "DROP FUNCTION refuse_audit()"],
        )
    return (
        ["CREATE TRIGGER refuse_audit BEFORE INSERT ON orchestra_auditevent "
         f"WHEN {condition} BEGIN SELECT RAISE(ABORT, 'audit refused'); END"],
        ["DROP TRIGGER refuse_audit"],
    )


@contextmanager
def audit_records_refused(target: str | None = None) -> Iterator[None]:
    """Every audit record (or only those naming `target`, a test's constant) fails to insert."""
    condition = f"NEW.target = '{target}'" if target is not None else "TRUE"
    create, drop = trigger_statements(condition)
    with connection.cursor() as cursor:
        for statement in create:
            cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for statement in drop:
                cursor.execute(statement)


@pytest.fixture
def audit_refused(transactional_db) -> Iterator[None]:
    with audit_records_refused():
        yield
