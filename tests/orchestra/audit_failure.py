"""Making the database fail a write, as a full disk or a lost connection would: for tests
showing that a change is never made without its audit record, and that a master's own failure
is retried, then bounded.

Tests using it run with `transactional_db`: committed as they go, like requests, so no test
transaction can hide a change that stayed.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection
from pymongo.errors import PyMongoError

# What MongoDB says of a document its collection's validator refuses.
MONGODB_REFUSAL = "Document failed validation"


def trigger_statements(name: str, table: str, operation: str, condition: str,
                       message: str) -> tuple[list[str], list[str]]:
    """(statements creating a trigger that makes `operation` ("INSERT", "UPDATE OF results") on
    `table` fail with `message` where `condition` holds, statements dropping it)."""
    if connection.vendor == "postgresql":
        return (
            [f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
             f"AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$",
             f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
             f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION {name}()"],
            [f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {name}()"],
        )
    if connection.vendor == "mysql":
        # MariaDB's triggers name no column: "UPDATE OF x" is an update that changes x.
        event, _, column = operation.partition(" OF ")
        if column:
            condition = f"({condition}) AND NOT (NEW.{column} <=> OLD.{column})"
        return (
            [f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW "
             f"BEGIN IF {condition} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'; "
             f"END IF; END"],
            [f"DROP TRIGGER {name}"],
        )
    return (
        [f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
         f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{message}'); END"],
        [f"DROP TRIGGER {name}"],
    )


@contextmanager
def database_refuses(table: str, operation: str, condition: str, message: str) -> Iterator[None]:
    """The database itself fails `operation` on `table` where `condition` holds, as a full disk
    would, until the block ends."""
    create, drop = trigger_statements(f"refuse_{table}", table, operation, condition, message)
    with connection.cursor() as cursor:
        for statement in create:
            cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for statement in drop:
                cursor.execute(statement)


@contextmanager
def audit_records_refused(target: str | None = None) -> Iterator[None]:
    """Every audit record (or only those naming `target`, a test's constant) fails to insert."""
    if connection.vendor == "mongodb":
        # A validator: MongoDB has no triggers. No audit record has the field `refused`.
        accepted = {"target": {"$ne": target}} if target is not None else {"refused": True}
        with collection_accepts_only("orchestra_auditevent", accepted):
            yield
        return
    condition = f"NEW.target = '{target}'" if target is not None else "TRUE"
    with database_refuses("orchestra_auditevent", "INSERT", condition, "audit refused"):
        yield


@contextmanager
def collection_accepts_only(collection: str, validator: dict) -> Iterator[None]:
    """MongoDB refuses to store a document of `collection` that `validator` does not match,
    as a full disk would, until the block ends."""
    database = connection.database
    database.command("collMod", collection, validator=validator, validationAction="error")
    try:
        yield
    finally:
        database.command("collMod", collection, validator={})


@contextmanager
def refusal(message: str) -> Iterator[None]:
    """The block fails with the database's refusal (`message` from a SQL trigger; MongoDB's
    validator says its own)."""
    # django-mongodb-backend passes a refused insert on as the driver's BulkWriteError.
    with pytest.raises((DatabaseError, PyMongoError)) as caught:
        yield
    error, said = caught.value, []
    while error is not None:
        said.append(str(error))
        error = error.__cause__ or error.__context__
    expected = MONGODB_REFUSAL if connection.vendor == "mongodb" else message
    assert any(expected in text for text in said), said


@pytest.fixture
def audit_refused(transactional_db) -> Iterator[None]:
    with audit_records_refused():
        yield
